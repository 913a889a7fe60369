package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Tenant is what a session is scoped to: a tenant and, for application
// callers, the application whose records it may read.
type Tenant struct {
	ID    string
	AppID *string
}

// Scope builds queries that can only see one tenant's rows. It is the only
// way code above the store gets a query, so no caller can forget the filter.
type Scope struct {
	idb    bun.IDB
	tenant Tenant
	clock  *txClock
	// db is set on a Session's reads, whose statements Scan may send
	// through pgx itself.
	db *DB
}

// Tenantwide is the scope without the app filter, for the consequences of
// a write that concern the whole tenant (such as promoting a waitlist
// whose entries other apps made).
func (s Scope) Tenantwide() Scope {
	s.tenant.AppID = nil
	return s
}

// Select starts a query on model's table, filtered to the tenant and, when
// the caller is an application and the table records the app, to its app.
func (s Scope) Select(model any) *bun.SelectQuery {
	q := s.idb.NewSelect().Model(model)
	return s.Filter(q, "?TableAlias", tableOf(s.idb, model))
}

// Filter adds the tenant (and app) conditions on the table aliased alias
// to q; used for tables joined into a query. table may be nil when the
// joined table carries no app_id.
func (s Scope) Filter(q *bun.SelectQuery, alias string, table *tableInfo) *bun.SelectQuery {
	q = q.Where(alias+".tenant_id = ?", s.tenant.ID)
	if app, ok := s.appOf(table); ok {
		q = q.Where(alias+".app_id = ?", app)
	}
	return q
}

// appOf is the app whose rows of table the caller may see: for an
// application caller on a table that records the app.
func (s Scope) appOf(table *tableInfo) (string, bool) {
	if s.tenant.AppID == nil || table == nil || !table.hasApp {
		return "", false
	}
	return *s.tenant.AppID, true
}

// Lateral runs inner once per parent id (inner refers to the current parent
// as parent.id) in a single statement, scanning every row into dest. This
// is how per-parent lists are loaded in one batch.
func (s Scope) Lateral(ctx context.Context, parents []uuid.UUID, inner *bun.SelectQuery, dest any) error {
	return s.Scan(ctx, s.idb.NewSelect().
		TableExpr("unnest(?) AS parent(id)", UUIDs(parents)).
		Join("CROSS JOIN LATERAL (?) AS row", inner).
		ColumnExpr("row.*"), dest)
}

// From starts a query over the rows of sub, a query built from this scope.
func (s Scope) From(sub *bun.SelectQuery, alias string) *bun.SelectQuery {
	return s.idb.NewSelect().TableExpr("(?) AS "+alias, sub)
}

// Compose starts a query with no table of its own, to combine queries
// built from this scope (as CTEs or subqueries) into one statement.
func (s Scope) Compose() *bun.SelectQuery { return s.idb.NewSelect() }

// Insert starts an insert of model; row-level security refuses rows of any
// other tenant.
func (s Scope) Insert(model any) *bun.InsertQuery { return s.idb.NewInsert().Model(model) }

// Update starts an update of model's table, filtered to the tenant.
func (s Scope) Update(model any) *bun.UpdateQuery {
	return s.idb.NewUpdate().Model(model).Where("?TableAlias.tenant_id = ?", s.tenant.ID)
}

// UpdateOwn starts an update of model's table filtered as Select filters
// a read: to the tenant and, for an application caller, to its app's rows.
func (s Scope) UpdateOwn(model any) *bun.UpdateQuery {
	q := s.Update(model)
	if app, ok := s.appOf(tableOf(s.idb, model)); ok {
		q = q.Where("?TableAlias.app_id = ?", app)
	}
	return q
}

// Delete starts a delete from model's table, filtered to the tenant (rows
// that the application's own records reference, such as memberships, are
// deleted whichever app made them).
func (s Scope) Delete(model any) *bun.DeleteQuery {
	return s.idb.NewDelete().Model(model).Where("?TableAlias.tenant_id = ?", s.tenant.ID)
}

// Exec runs a statement that is not about rows of one model (for example
// the seat-locking statements of the licensing service). The caller is
// responsible for its tenant condition; row-level security still applies.
func (s Scope) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.idb.ExecContext(ctx, query, args...)
}

type tableInfo struct{ hasApp bool }

var tables sync.Map // reflect.Type -> *tableInfo

func tableOf(idb bun.IDB, model any) *tableInfo {
	t := reflect.TypeOf(model)
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if info, ok := tables.Load(t); ok {
		return info.(*tableInfo)
	}
	info := &tableInfo{hasApp: idb.Dialect().Tables().Get(t).HasField("app_id")}
	tables.Store(t, info)
	return info
}

// Session is one request's view of one tenant's data. Each Read runs on
// a connection of its own, checked out for the Read alone and scoped to
// the tenant, so independent batches of a request run at once, and no
// connection is held (let alone idle in a transaction) while Go code
// between batches runs. Each statement sees the data as of its own start.
type Session struct {
	db     *DB
	tenant Tenant
}

// Session starts a session for tenant t.
func (db *DB) Session(_ context.Context, t Tenant) *Session {
	return &Session{db: db, tenant: t}
}

// Read runs fn on a connection scoped to the session's tenant. Its
// statements run each in its own implicit transaction.
func (s *Session) Read(ctx context.Context, fn func(Scope) error) error {
	return s.db.scoped(ctx, s.tenant, func(c bun.IDB) error {
		return fn(Scope{idb: c, tenant: s.tenant, clock: &txClock{}, db: s.db})
	})
}

// Close ends the session. Reads hold nothing between them, so there is
// nothing left to end; it is kept so that callers need not know.
func (s *Session) Close() error { return nil }

// Write runs fn in a transaction of its own for tenant t, committed when fn
// returns nil and rolled back otherwise. A commit that committed is
// recorded in ctx's Outcome; a COMMIT that PostgreSQL did not answer is an
// OutcomeUnknownError.
func (db *DB) Write(ctx context.Context, t Tenant, fn func(Scope) error) error {
	return db.checkout(ctx, t, func(c bun.Conn) error {
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer rollbackOnPanic(tx)
		if err := fn(Scope{idb: tx, tenant: t, clock: &txClock{}}); err != nil {
			return errors.Join(err, ignoreDone(tx.Rollback()))
		}
		if err := tx.Commit(); err != nil {
			if _, _, ok := Violation(err); ok {
				return err // PostgreSQL answered: the transaction rolled back
			}
			return &OutcomeUnknownError{err}
		}
		markCommitted(ctx)
		return nil
	})
}

// WriteStatement runs fn, which sends exactly one statement, for tenant t
// without a transaction of its own: one statement is atomic by itself, so
// BEGIN and COMMIT would only add two round trips. It is run again (a few
// times) when it failed only because of a concurrent transaction.
func (db *DB) WriteStatement(ctx context.Context, t Tenant, fn func(Scope) error) error {
	var err error
	for range 5 {
		err = db.scoped(ctx, t, func(c bun.IDB) error { return fn(Scope{idb: c, tenant: t, clock: &txClock{}, db: db}) })
		if !retryable(err) {
			break
		}
	}
	if err == nil {
		markCommitted(ctx) // one statement that succeeded has committed
	}
	return err
}

// WriteRetrying is Write, run again (a few times) when it failed only
// because of a concurrent transaction (a deadlock or serialization
// failure), and once more when it waited for a lock longer than the lock
// timeout; after that the error is Busy.
func (db *DB) WriteRetrying(ctx context.Context, t Tenant, fn func(Scope) error) error {
	var err error
	waits := 0
	for range 5 {
		err = db.Write(ctx, t, fn)
		if Busy(err) {
			if waits++; waits < 2 {
				continue
			}
		}
		if !retryable(err) {
			break
		}
	}
	return err
}

// scoped checks a connection out of the pool for fn, scoped to tenant t:
// its statements run with t's setting (row-level security shows them t's
// rows only) and the statement timeout. On Citus, where the setting must
// be SET LOCAL in a transaction, fn's statements run in one (read only
// unless write); Write begins its own.
func (db *DB) scoped(ctx context.Context, t Tenant, fn func(bun.IDB) error) error {
	return db.checkout(ctx, t, func(c bun.Conn) error {
		if !db.local.Load() {
			return fn(c)
		}
		// fn's statements get ctx; the transaction's own BEGIN and
		// COMMIT count as the tenant setting (DB.Statements).
		tx, err := c.BeginTx(context.WithValue(ctx, settingTx{}, true), nil)
		if err != nil {
			return err
		}
		defer rollbackOnPanic(tx)
		if err := fn(tx); err != nil {
			return errors.Join(err, ignoreDone(tx.Rollback()))
		}
		return tx.Commit()
	})
}

// rollbackOnPanic rolls tx back when the function deferring it panics, so
// that the connection (and the rows it locked) goes back to the pool
// instead of sitting idle in a transaction; the panic goes on.
func rollbackOnPanic(tx bun.Tx) {
	if v := recover(); v != nil {
		_ = tx.Rollback()
		panic(v)
	}
}

// checkout checks a connection out of the pool for fn, scoped to tenant t.
func (db *DB) checkout(ctx context.Context, t Tenant, fn func(bun.Conn) error) error {
	if err := CheckTenantID(t.ID); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if before, _ := ctx.Value(beforeStatementsKey{}).(func(context.Context)); before != nil {
		before(ctx)
	}
	c, err := db.bun.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Raw(func(dc any) error {
		dc.(*conn).scope(t.ID)
		return nil
	}); err != nil {
		return err
	}
	return fn(c)
}

type beforeStatementsKey struct{}

// BeforeStatements returns ctx in which every connection taken for
// statements is taken after f(ctx): the caller's goroutine is about to
// block on the database, so what it has left for later may start now (the
// loaders start the sibling fields and items of the field that reads).
func BeforeStatements(ctx context.Context, f func(context.Context)) context.Context {
	return context.WithValue(ctx, beforeStatementsKey{}, f)
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// ByID reads, through the session's scope, the rows of base whose idExpr
// is among ids, keyed by id. A row missing from the map does not exist or
// is not the caller's to see.
func ByID[T any](ctx context.Context, sess *Session, ids []uuid.UUID, base func(Scope) *bun.SelectQuery,
	idExpr string, idOf func(*T) uuid.UUID) (map[uuid.UUID]*T, error) {
	var rows []*T
	err := sess.Read(ctx, func(s Scope) error {
		return s.Scan(ctx, base(s).Where(idExpr+" = ANY(?)", UUIDs(ids)), &rows)
	})
	m := make(map[uuid.UUID]*T, len(rows))
	for _, r := range rows {
		m[idOf(r)] = r
	}
	return m, err
}

// Contains is the ILIKE pattern matching s anywhere, with s's own wildcard
// characters taken literally.
func Contains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
