package search

import "encoding/json"

// PortSpan is a port or a range of ports in JSON: {"low": 80, "high": 80}.
type PortSpan struct {
	Low  int `json:"low"`
	High int `json:"high"`
}

// MarshalJSON writes a hit as docs/json.md describes: port is the first
// port or null, ports the spans ([] for a name without a port), protos the
// protocols, and kind and confidence null for a registry row.
func (h Hit) MarshalJSON() ([]byte, error) {
	var port *int
	if h.Port >= 0 && len(h.Spans) > 0 {
		port = &h.Port
	}
	spans := make([]PortSpan, len(h.Spans))
	for i, s := range h.Spans {
		spans[i] = PortSpan{s[0], s[1]}
	}
	protos := h.Protocols
	if protos == nil {
		protos = []string{}
	}
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return json.Marshal(struct {
		Source      string     `json:"source"`
		Category    string     `json:"category"`
		Name        string     `json:"name"`
		NameKO      *string    `json:"name_ko"`
		Port        *int       `json:"port"`
		Ports       []PortSpan `json:"ports"`
		Protos      []string   `json:"protos"`
		Description *string    `json:"description"`
		Kind        *string    `json:"kind"`
		Confidence  *string    `json:"confidence"`
		Match       string     `json:"match"`
	}{h.Source, h.Category, h.Name, str(h.NameKO), port, spans, protos, str(h.Description), str(h.Kind), str(h.Confidence), h.Match})
}
