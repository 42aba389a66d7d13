package main

import (
	"context"
	"fmt"
	"os"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/service"
	"github.com/facereg/facereg/internal/vision"
)

// cliService opens the database and a Service without models (tenant and
// key administration works while the server runs: SQLite in WAL mode takes
// both, and the server sees a new key at once).
func cliService(ctx context.Context, df *dataFlags, models string) (*service.Service, func(), error) {
	db, err := df.open(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	man, err := vision.LoadManifest(models)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	th := man.Thresholds
	svc := service.New(db, nil, nil, nil, nil, service.Config{Defaults: &th})
	return svc, func() { db.Close() }, nil
}

func runTenants(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		fmt.Fprintln(os.Stderr, "usage: facereg tenants create NAME [--data DIR]\n       facereg tenants list [--data DIR]")
		return errUsage
	}
	sub := args[0]
	fs := newFlags("tenants " + sub)
	var df dataFlags
	var ef engineFlags
	df.register(fs)
	ef.register(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	svc, closeFn, err := cliService(ctx, &df, ef.models)
	if err != nil {
		return err
	}
	defer closeFn()
	if sub == "list" {
		ts, err := svc.Store().Tenants(ctx)
		if err != nil {
			return err
		}
		if ts == nil {
			ts = []*facereg.Tenant{}
		}
		for _, t := range ts {
			t.Settings.WebhookSecret = ""
		}
		return printJSON(ts)
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: facereg tenants create NAME [--data DIR]")
		return errUsage
	}
	t, key, err := svc.CreateTenant(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	return printJSON(map[string]any{
		"client_id": t.ID, "name": t.Name, "api_key": key, "settings": t.Settings,
		"note": "the api_key is shown once; only its hash is stored",
	})
}

func runKeys(ctx context.Context, args []string) error {
	usage := func() error {
		fmt.Fprintln(os.Stderr, "usage: facereg keys create --tenant ID|NAME\n       facereg keys list --tenant ID|NAME\n       facereg keys revoke --tenant ID|NAME KEY_ID")
		return errUsage
	}
	if len(args) == 0 {
		return usage()
	}
	sub := args[0]
	fs := newFlags("keys " + sub)
	var df dataFlags
	var ef engineFlags
	df.register(fs)
	ef.register(fs)
	tenant := fs.String("tenant", "", "tenant client id or name")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *tenant == "" {
		return usage()
	}
	svc, closeFn, err := cliService(ctx, &df, ef.models)
	if err != nil {
		return err
	}
	defer closeFn()
	t, err := svc.Store().Tenant(ctx, *tenant)
	if facereg.ErrorCode(err) == facereg.ENOTFOUND {
		t, err = svc.Store().TenantByName(ctx, *tenant)
	}
	if err != nil {
		return fmt.Errorf("tenant %q: %w", *tenant, err)
	}
	switch sub {
	case "create":
		k, secret, err := svc.CreateKey(ctx, t.ID)
		if err != nil {
			return err
		}
		return printJSON(map[string]any{"key_id": k.ID, "client_id": t.ID, "api_key": secret, "created_at": k.CreatedAt, "note": "the api_key is shown once; only its hash is stored"})
	case "list":
		ks, err := svc.Store().APIKeys(ctx, t.ID)
		if err != nil {
			return err
		}
		if ks == nil {
			ks = []*facereg.APIKey{}
		}
		return printJSON(ks)
	case "revoke":
		if fs.NArg() != 1 {
			return usage()
		}
		if err := svc.RevokeKey(ctx, t.ID, fs.Arg(0)); err != nil {
			return err
		}
		return printJSON(map[string]any{"key_id": fs.Arg(0), "revoked": true})
	}
	return usage()
}
