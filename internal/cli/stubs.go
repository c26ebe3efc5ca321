package cli

import "context"

func runSearch(context.Context, *Env, []string) error { return usagef("search: not yet") }
func runStats(context.Context, *Env, []string) error  { return usagef("stats: not yet") }
func runUpdate(context.Context, *Env, []string) error { return usagef("update: not yet") }
