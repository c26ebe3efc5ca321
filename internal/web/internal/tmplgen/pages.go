package tmplgen

// Pages are the pages internal/web renders with generated code, each
// compiled into its Output file in internal/web by `go generate` (gen.go
// there), which a test holds fresh. Dir is relative to internal/web.
var Pages = []Config{{
	Dir:     ".",
	Output:  "port_gen.go",
	Files:   []string{"templates/layout.html", "templates/port.html"},
	Entry:   "layout",
	Func:    "renderPortPage",
	Data:    "*pageData",
	FuncMap: "funcs",
	// parseTemplates sets Option("missingkey=error").
	MissingKeyError: true,
	Dynamic: map[string]string{
		"pageData.P":           "*portView",
		"intel/tmplArgs.V":     "[]intelView",
		"listeners/tmplArgs.V": "[]localRow",
	},
	Command: "gen.go",
}}
