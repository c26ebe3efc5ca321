package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 that is its own CA, and its
// key, made in the test; it returns the two paths and a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "porthole test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestFleetTLS: serve --tls-cert/--tls-key and agent --ca with a certificate
// made in the test; a client that does not trust it is refused.
func TestFleetTLS(t *testing.T) {
	f := fleetSetup(t, "tls-host")
	db, admin, adminFile, tokFile := f.db, f.admin, f.adminFile, f.tokFile
	certFile, keyFile, pool := selfSigned(t, f.dir)

	srv := startMain(t, time.Now, "serve", "--addr", "127.0.0.1:0", "--db", db, "--admin-token-file", adminFile,
		"--tls-cert", certFile, "--tls-key", keyFile)
	addr := srv.wait(t, regexp.MustCompile(`serving https://(\S+)/`))[1]
	agent := startMain(t, time.Now, "agent", "--server", "https://"+addr, "--ca", certFile, "--token-file", tokFile,
		"--name", "tls-host", "--interval", "1s")

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	hosts := func() []map[string]any {
		req, _ := http.NewRequest("GET", "https://"+addr+"/api/v1/fleet/hosts", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var hs []map[string]any
		json.NewDecoder(resp.Body).Decode(&hs)
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Error("no HSTS header over TLS")
		}
		return hs
	}
	deadline := time.Now().Add(time.Minute) // a guard against a hang, not a timing assertion
	for {
		if hs := hosts(); len(hs) == 1 && hs[0]["reports"].(float64) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent's report never arrived over TLS; agent:\n%s", agent.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := http.Get("https://" + addr + "/"); err == nil {
		t.Error("a client without the CA connected")
	}
	if code := agent.stop(t); code != 0 {
		t.Errorf("agent exited %d: %s", code, agent.stderr.String())
	}
	srv.stop(t)

	for _, args := range [][]string{
		{"serve", "--tls-cert", certFile},
		{"serve", "--tls-cert", keyFile, "--tls-key", certFile},
		{"agent", "--server", "http://127.0.0.1:1", "--ca", certFile, "--token-file", tokFile, "--name", "x"},
		{"agent", "--server", "https://127.0.0.1:1", "--ca", tokFile, "--token-file", tokFile, "--name", "x"},
	} {
		if r := run(t, "", args...); r.code != ExitUsage {
			t.Errorf("%q: exit %d %s, want 2", args, r.code, r.stderr)
		}
	}
}
