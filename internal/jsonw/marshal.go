package jsonw

import (
	"bytes"
	"encoding/json"
)

// Marshal is json.Marshal without HTML escaping, for the values that keep
// encoding/json's reflection (a MarshalJSON of a small struct): an inner
// json.Marshal would escape <, > and & that every --json output leaves as
// written. The result is compact, without a final newline.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
