package audit

import "encoding/json"

// JSON forms follow docs/json.md: every field present, null for what a
// line does not say.

func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// MarshalJSON writes the reference with a null comment when there is none.
func (r RuleRef) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		File    string  `json:"file"`
		Line    int     `json:"line"`
		Text    string  `json:"text"`
		Comment *string `json:"comment"`
	}{r.File, r.Line, r.Text, str(r.Comment)})
}

// MarshalJSON writes a baseline line: null for every condition it leaves
// open (proto, exe, name, user, addr, netns, container, unit), and null low
// and high for a line that accepts any port or the ephemeral range.
func (r Rule) MarshalJSON() ([]byte, error) {
	var low, high *int
	if !r.AnyPort && !r.Ephemeral {
		low, high = &r.Low, &r.High
	}
	return json.Marshal(struct {
		File      string  `json:"file"`
		Line      int     `json:"line"`
		Proto     *string `json:"proto"`
		Low       *int    `json:"low"`
		High      *int    `json:"high"`
		AnyPort   bool    `json:"any_port"`
		Ephemeral bool    `json:"ephemeral"`
		Exe       *string `json:"exe"`
		Name      *string `json:"name"`
		User      *string `json:"user"`
		Addr      *string `json:"addr"`
		NetNS     *string `json:"netns"`
		Container *string `json:"container"`
		Unit      *string `json:"unit"`
		Optional  bool    `json:"optional"`
		Comment   *string `json:"comment"`
	}{r.File, r.Line, str(r.Proto.String()), low, high, r.AnyPort, r.Ephemeral, str(r.Exe), str(r.Name), str(r.User),
		str(r.Addr), str(r.NetNS), str(r.Container), str(r.Unit), r.Optional, str(r.Comment)})
}
