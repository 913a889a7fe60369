package apitest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"seatgraph/internal/store"
	"seatgraph/models"
)

// Fixture writes rows for one tenant straight through the store, for
// tests that need data shapes the demo seed does not have.
type Fixture struct {
	t      testing.TB
	db     *store.DB
	Tenant string
	Admin  *models.Person
	now    time.Time
}

// NewFixture makes a fixture writer for tenant, with an admin person who
// assigns every seat.
func NewFixture(t testing.TB, db *store.DB, tenant string) *Fixture {
	f := &Fixture{t: t, db: db, Tenant: tenant, now: time.Now().UTC()}
	f.Admin = f.Person("admin@" + tenant + ".example")
	return f
}

func (f *Fixture) record() models.Record {
	return models.NewRecord(f.Tenant, nil, "fixture", "test", models.SourceAPI, f.now)
}

func (f *Fixture) insert(model any) {
	f.t.Helper()
	err := f.db.Write(context.Background(), store.Tenant{ID: f.Tenant}, func(s store.Scope) error {
		_, err := s.Insert(model).Exec(context.Background())
		return err
	})
	if err != nil {
		f.t.Fatalf("fixture insert %T: %v", model, err)
	}
}

// License creates a license with seats seats (0: unlimited).
func (f *Fixture) License(name string, seats int) *models.License {
	l := &models.License{Record: f.record(), Name: name, Vendor: "Vendor " + name, Metadata: map[string]any{}}
	if seats > 0 {
		l.TotalSeats = &seats
	}
	f.insert(l)
	return l
}

// Person creates a person.
func (f *Fixture) Person(email string) *models.Person {
	p := &models.Person{Record: f.record(), Email: email, Name: "Name of " + email, Active: true}
	f.insert(p)
	return p
}

// People creates n people named prefix-i.
func (f *Fixture) People(prefix string, n int) []*models.Person {
	out := make([]*models.Person, n)
	for i := range out {
		out[i] = &models.Person{Record: f.record(), Email: fmt.Sprintf("%s-%d@%s.example", prefix, i, f.Tenant),
			Name: fmt.Sprintf("%s %d", prefix, i), Active: true}
	}
	f.insert(&out)
	return out
}

// Group creates a group with members.
func (f *Fixture) Group(name string, members ...*models.Person) *models.Group {
	g := &models.Group{Record: f.record(), Name: name}
	f.insert(g)
	for _, p := range members {
		f.insert(&models.GroupMember{TenantID: f.Tenant, GroupID: g.ID, PersonID: p.ID, AddedAt: f.now, AddedBy: "fixture"})
	}
	return g
}

func (f *Fixture) assignment(l *models.License) *models.Assignment {
	return &models.Assignment{Record: f.record(), LicenseID: l.ID, AssignedAt: f.now, AssignedBy: "fixture",
		AssignedByPersonID: &f.Admin.ID, Active: true, Fulfilled: true, Metadata: map[string]any{}}
}

// Assign grants l to each person directly.
func (f *Fixture) Assign(l *models.License, people ...*models.Person) []*models.Assignment {
	out := make([]*models.Assignment, len(people))
	for i, p := range people {
		out[i] = f.assignment(l)
		out[i].PersonID = &p.ID
	}
	f.insert(&out)
	return out
}

// AssignGroup grants l to g and gives each of members an inherited seat.
func (f *Fixture) AssignGroup(l *models.License, g *models.Group, members ...*models.Person) *models.Assignment {
	grant := f.assignment(l)
	grant.GroupID = &g.ID
	rows := []*models.Assignment{grant}
	for _, p := range members {
		a := f.assignment(l)
		a.PersonID, a.ViaAssignmentID, a.ViaGroupID = &p.ID, &grant.ID, &g.ID
		rows = append(rows, a)
	}
	f.insert(&rows)
	return grant
}

// Invite grants l to an email address with no person yet.
func (f *Fixture) Invite(l *models.License, email string) *models.Assignment {
	a := f.assignment(l)
	a.Email, a.Fulfilled = &email, false
	f.insert(a)
	return a
}
