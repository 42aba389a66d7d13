package main

import "context"

func runServe(ctx context.Context, args []string) error     { return nil }
func runTenants(ctx context.Context, args []string) error   { return nil }
func runKeys(ctx context.Context, args []string) error      { return nil }
func runRotateKey(ctx context.Context, args []string) error { return nil }
func runLoadtest(ctx context.Context, args []string) error  { return nil }
