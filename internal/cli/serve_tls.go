package cli

import (
	"crypto/tls"
	"crypto/x509"
	"os"
)

// serveTLSConfig loads --tls-cert and --tls-key: both or neither (nil: plain
// HTTP). A pair that does not load is bad input, refused before anything
// is bound.
func serveTLSConfig(certFile, keyFile string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "" || keyFile == "":
		return nil, usagef("--tls-cert and --tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, usagef("--tls-cert %s, --tls-key %s: %v", quoteArg(certFile), quoteArg(keyFile), err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// caPool reads the PEM certificates of --ca FILE.
func caPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--ca: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, usagef("--ca: %s holds no PEM certificate", quoteArg(path))
	}
	return pool, nil
}
