package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun/migrate"
	"github.com/urfave/cli/v3"

	"seatgraph/internal/apikey"
	"seatgraph/internal/auth"
	"seatgraph/internal/config"
	"seatgraph/internal/seed"
	"seatgraph/internal/store"
	"seatgraph/migrations"
)

// tokenTTL is the lifetime of a development token minted without --ttl.
const tokenTTL = 12 * time.Hour

// commands is seatgraph's command line. serve is what runs when no command
// is named. Help (help, --help, -h on every command) and version never
// read the configuration or touch the database; the other commands read
// their settings from the environment (see README.md, Configuration) when
// they run, not before.
func commands(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:           "seatgraph",
		Usage:          "multi-tenant GraphQL API for software license seats (a federation v2 subgraph)",
		Description:    "Settings come from environment variables (DATABASE_URL, JWT_SECRET, DEV_MODE, …; see README.md).\nWithout a command, seatgraph serves.",
		Version:        version(),
		DefaultCommand: "serve",
		Writer:         stdout,
		ErrWriter:      stderr,
		// Errors are returned to main, which prints them and exits 1;
		// urfave/cli would otherwise exit from inside Run.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		Commands: []*cli.Command{
			{
				Name:   "serve",
				Usage:  "run the GraphQL server (the default command)",
				Action: noArgs(func(ctx context.Context, _ *cli.Command) error { return serve(ctx) }),
			},
			{
				Name:           "migrate",
				Usage:          "apply, roll back or list the database migrations (connects with DATABASE_ADMIN_URL)",
				DefaultCommand: "up",
				Commands: []*cli.Command{
					{Name: "up", Usage: "apply every pending migration (the default)", Action: noArgs(migrateUp)},
					{Name: "down", Usage: "roll back the last applied group of migrations (lists them; --yes to do it)",
						Flags:  []cli.Flag{&cli.BoolFlag{Name: "yes", Usage: "roll them back (their tables, columns and data are gone)"}},
						Action: noArgs(migrateDown)},
					{Name: "status", Usage: "list the migrations, applied or pending", Action: noArgs(migrateStatus)},
				},
			},
			{
				Name:  "seed",
				Usage: "load demo data into a tenant (left alone when it already has data)",
				Flags: []cli.Flag{&cli.StringFlag{Name: "tenant", Value: "demo", Usage: "tenant to fill with demo data"}},
				Action: noArgs(func(ctx context.Context, cmd *cli.Command) error {
					return seedTenant(ctx, cmd.String("tenant"), stdout)
				}),
			},
			{
				Name:  "token",
				Usage: "print a development JWT (HS256, signed with JWT_SECRET, or the development secret under DEV_MODE)",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "tenant", Usage: "tenant the token is for", Required: true},
					&cli.StringFlag{Name: "sub", Value: seed.AdminSubject, Usage: "subject, the caller's id (the demo tenant's admin by default)"},
					&cli.StringFlag{Name: "app", Usage: "application id, for an app-scoped token"},
					&cli.StringFlag{Name: "scopes", Value: strings.Join(auth.AllScopes, " "), Usage: "space-separated scopes"},
					&cli.DurationFlag{Name: "ttl", Value: tokenTTL, Usage: "lifetime"},
				},
				Action: noArgs(func(_ context.Context, cmd *cli.Command) error {
					cfg, err := config.Load(false)
					if errors.Is(err, config.ErrNoKey) {
						return errNoSecret
					} else if err != nil {
						return err
					}
					tok, err := mintToken(cfg, cmd.String("tenant"), cmd.String("sub"), cmd.String("app"),
						strings.Fields(cmd.String("scopes")), cmd.Duration("ttl"))
					if err != nil {
						return err
					}
					_, err = fmt.Fprintln(stdout, tok)
					return err
				}),
			},
			apikey.CLI(openKeys, stdout, stderr),
			{
				Name:  "version",
				Usage: "print the module version and the commit it was built from",
				Action: func(context.Context, *cli.Command) error {
					_, err := fmt.Fprintln(stdout, "seatgraph", version())
					return err
				},
			},
		},
	}
}

// helpArgs turns `help a b …` into `a b … --help`: urfave/cli's help
// command looks one level down only, so `help apikey create` would show
// apikey's help rather than create's.
func helpArgs(args []string) []string {
	if len(args) > 3 && args[1] == "help" {
		return append(append([]string{args[0]}, args[2:]...), "--help")
	}
	return args
}

// noArgs refuses positional arguments before action runs: a mistyped
// command name must not fall through to the default command (serve, or
// migrate up) and start it.
func noArgs(action cli.ActionFunc) cli.ActionFunc {
	return func(ctx context.Context, cmd *cli.Command) error {
		if cmd.Args().Present() {
			return fmt.Errorf("unknown command or argument %q (seatgraph help lists the commands)", cmd.Args().First())
		}
		return action(ctx, cmd)
	}
}

// version is the main module's version and the commit it was built from,
// as the Go toolchain stamped them into the binary ("(devel)" and no
// commit for a build outside a git checkout or with -buildvcs=false).
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var commit, at, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if commit == "" {
		return fmt.Sprintf("%s (no commit recorded; %s)", v, info.GoVersion)
	}
	return fmt.Sprintf("%s commit %s (%s%s; %s)", v, commit, at, modified, info.GoVersion)
}

var errNoSecret = errors.New("token: no HS256 secret to sign with: set JWT_SECRET (or DEV_MODE=true for the development secret); JWT_JWKS_URL only verifies tokens another issuer signs")

// mintToken signs a development token. It needs an HS256 secret (a server
// that only verifies tokens from a JWKS could not accept it) and refuses
// scopes the server does not know.
func mintToken(cfg *config.Config, tenant, sub, app string, scopes []string, ttl time.Duration) (string, error) {
	if strings.TrimSpace(tenant) == "" {
		return "", errors.New("token: --tenant must not be empty")
	}
	if err := store.CheckTenantID(tenant); err != nil {
		return "", fmt.Errorf("token: --tenant: %w", err)
	}
	if ttl <= 0 {
		return "", errors.New("token: --ttl must be positive")
	}
	if err := auth.CheckScopes(scopes); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	if cfg.JWTSecret == "" {
		return "", errNoSecret
	}
	return auth.Mint(auth.JWTConfig{Secret: []byte(cfg.JWTSecret), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
		TenantClaim: cfg.TenantClaim, AppClaim: cfg.AppClaim},
		auth.TokenRequest{Tenant: tenant, Subject: sub, App: app, Scopes: scopes, TTL: ttl})
}

// openAdmin opens the owner connection (DATABASE_ADMIN_URL, else
// DATABASE_URL) for the commands that need nothing else: migrations (no
// signing keys, no statement timeout) and API keys (the server's own role
// cannot write them).
func openAdmin(ctx context.Context) (*store.DB, error) {
	url, err := config.AdminDatabaseURL()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, url, store.Options{MaxConns: 2})
}

// withAdminDB runs f on the owner connection (openAdmin).
func withAdminDB(ctx context.Context, f func(*store.DB, *slog.Logger) error) error {
	db, err := openAdmin(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return f(db, newLogger(slog.LevelInfo))
}

func migrateUp(ctx context.Context, _ *cli.Command) error {
	return withAdminDB(ctx, func(db *store.DB, log *slog.Logger) error { return applyMigrations(ctx, db, log) })
}

// migrateDown lists the last applied group of migrations (after make run,
// every migration: the whole schema and its data) and rolls it back only
// with --yes.
func migrateDown(ctx context.Context, cmd *cli.Command) error {
	out := cmd.Root().Writer
	return withAdminDB(ctx, func(db *store.DB, log *slog.Logger) error {
		group, err := migrations.Rollback(ctx, db.Bun(), func(last *migrate.MigrationGroup) error {
			verb := "would roll back"
			if cmd.Bool("yes") {
				verb = "rolls back"
			}
			fmt.Fprintf(out, "migrate down %s group %d, %d migrations (newest first), with their tables, columns and data:\n",
				verb, last.ID, len(last.Migrations))
			for i := len(last.Migrations) - 1; i >= 0; i-- {
				fmt.Fprintf(out, "  %s_%s\n", last.Migrations[i].Name, last.Migrations[i].Comment)
			}
			if !cmd.Bool("yes") {
				return errors.New("nothing rolled back: run `seatgraph migrate down --yes` to roll back the migrations listed")
			}
			return nil
		})
		if err != nil {
			return err
		}
		if group.IsZero() {
			log.Info("migrations: nothing to roll back")
		} else {
			log.Info("migrations rolled back", "group", group.String())
		}
		return nil
	})
}

// migrateStatus prints one line per migration: its name, then applied
// (with its group and time) or pending, in aligned columns.
func migrateStatus(ctx context.Context, cmd *cli.Command) error {
	return withAdminDB(ctx, func(db *store.DB, _ *slog.Logger) error {
		ms, err := migrations.Status(ctx, db.Bun())
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(cmd.Root().Writer, 0, 0, 2, ' ', 0)
		for _, m := range ms {
			state := "pending"
			if m.IsApplied() {
				state = fmt.Sprintf("applied (group %d, %s)", m.GroupID, m.MigratedAt.UTC().Format(time.RFC3339))
			}
			fmt.Fprintf(w, "%s_%s\t%s\n", m.Name, m.Comment, state)
		}
		return w.Flush()
	})
}

func applyMigrations(ctx context.Context, db *store.DB, log *slog.Logger) error {
	group, err := migrations.Apply(ctx, db.Bun())
	if err != nil {
		return err
	}
	if group.IsZero() {
		log.Info("migrations: database is current")
	} else {
		log.Info("migrations applied", "group", group.String())
	}
	return nil
}

func seedTenant(ctx context.Context, tenant string, stdout io.Writer) error {
	if err := store.CheckTenantID(tenant); err != nil {
		return fmt.Errorf("seed: --tenant: %w", err)
	}
	cfg, err := config.Load(true)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := seed.Run(ctx, db, tenant)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if !res.Created {
		fmt.Fprintf(stdout, "tenant %q already has data; left as it is\n", tenant)
		return nil
	}
	fmt.Fprintf(stdout, "seeded tenant %q: %d licenses, %d people, %d groups, %d grants\n",
		tenant, res.Licenses, res.People, res.Groups, res.Assignments)
	return nil
}

// openKeys opens the API key store on the owner connection (openAdmin).
func openKeys(ctx context.Context) (*apikey.Store, func(), error) {
	db, err := openAdmin(ctx)
	if err != nil {
		return nil, nil, err
	}
	return apikey.NewStore(db.Bun()), func() { _ = db.Close() }, nil
}
