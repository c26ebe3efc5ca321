package cli

import "context"

func runUpdate(context.Context, *Env, []string) error { return usagef("update: not yet") }
