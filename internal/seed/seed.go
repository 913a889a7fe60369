// Package seed fills a tenant with demo data worth exploring: licenses from
// real-sounding vendors (unlimited, nearly full, full with a waitlist, one
// expired), a few hundred people, groups with group grants and inherited
// seats, email invitations, and suspended, expired and revoked seats with
// usage spread over months.
package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/store"
	"seatgraph/models"
)

// AdminSubject is the subject of the demo tenant's administrator, whose
// Person is the viewer of a development token minted for it.
const AdminSubject = "dev-admin"

// Result says what Run did.
type Result struct {
	Created     bool
	Licenses    int
	People      int
	Groups      int
	Assignments int
}

// Run seeds tenant. It is idempotent: a tenant that already has licenses
// is left as it is.
func Run(ctx context.Context, db *store.DB, tenant string) (Result, error) {
	var res Result
	err := db.Write(ctx, store.Tenant{ID: tenant}, func(s store.Scope) error {
		n, err := s.Select((*models.License)(nil)).Count(ctx)
		if err != nil || n > 0 {
			return err
		}
		b := &builder{s: s, tenant: tenant, now: time.Now().UTC(), rnd: rand.New(rand.NewPCG(7, 11))}
		if err := b.build(ctx); err != nil {
			return err
		}
		res = Result{Created: true, Licenses: len(b.licenses), People: len(b.people), Groups: len(b.groups), Assignments: b.assignments}
		return nil
	})
	return res, err
}

type builder struct {
	s           store.Scope
	tenant      string
	now         time.Time
	rnd         *rand.Rand
	admin       *models.Person
	people      []*models.Person
	groups      map[string]*models.Group
	members     map[string][]*models.Person
	licenses    map[string]*models.License
	assignments int
}

var (
	firstNames = []string{"Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
		"Kara", "Liam", "Maya", "Nils", "Olga", "Priya", "Quinn", "Rafael", "Sara", "Tomas", "Uma", "Victor",
		"Wen", "Ximena", "Yusuf", "Zoe"}
	lastNames = []string{"Andersen", "Brooks", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
		"Ito", "Jansen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero"}
	departments = []string{"Engineering", "Design", "Product", "Sales", "Support", "Data", "Finance"}
)

type licenseSpec struct {
	key, name, vendor, program string
	seats                      int // 0 = unlimited
	expiresIn                  time.Duration
}

var licenseSpecs = []licenseSpec{
	{"intellij", "IntelliJ IDEA Ultimate", "JetBrains", "IIU", 60, 200 * 24 * time.Hour},
	{"figma", "Figma Professional", "Figma", "FIGMA-PRO", 25, 300 * 24 * time.Hour},
	{"jira", "Jira Software Cloud", "Atlassian", "JSW", 0, 365 * 24 * time.Hour},
	{"slack", "Slack Business+", "Salesforce", "SLACK-BP", 0, 0},
	{"adobe", "Creative Cloud All Apps", "Adobe", "CC-ALL", 10, 120 * 24 * time.Hour},
	{"vs", "Visual Studio Enterprise", "Microsoft", "VSE", 15, 90 * 24 * time.Hour},
	{"copilot", "GitHub Copilot Business", "GitHub", "COPILOT-BIZ", 40, 330 * 24 * time.Hour},
	{"zoom", "Zoom Workplace Business", "Zoom", "ZW-BIZ", 0, 0},
	{"autocad", "AutoCAD", "Autodesk", "ACD", 5, 180 * 24 * time.Hour},
	{"tableau", "Tableau Creator", "Salesforce", "TAB-CREATOR", 8, 60 * 24 * time.Hour},
	{"sketch", "Sketch", "Sketch B.V.", "SKETCH", 12, -30 * 24 * time.Hour},
	{"1password", "1Password Business", "1Password", "1P-BIZ", 0, 400 * 24 * time.Hour},
	{"postman", "Postman Enterprise", "Postman", "PM-ENT", 20, 240 * 24 * time.Hour},
}

func (b *builder) record(ago time.Duration) models.Record {
	r := models.NewRecord(b.tenant, nil, AdminSubject, "seed", models.SourceSystem, b.now.Add(-ago))
	return r
}

func (b *builder) days(lo, hi int) time.Duration {
	return time.Duration(lo+b.rnd.IntN(hi-lo+1)) * 24 * time.Hour
}

func (b *builder) build(ctx context.Context) error {
	if err := b.buildPeople(ctx); err != nil {
		return err
	}
	if err := b.buildGroups(ctx); err != nil {
		return err
	}
	if err := b.buildLicenses(ctx); err != nil {
		return err
	}
	return b.buildAssignments(ctx)
}

func (b *builder) buildPeople(ctx context.Context) error {
	b.admin = &models.Person{Record: b.record(400 * 24 * time.Hour), Email: "avery.admin@demo.example",
		Name: "Avery Admin", Username: ptr("avery"), ExternalID: ptr(AdminSubject)}
	b.people = append(b.people, b.admin)
	b.members = map[string][]*models.Person{}
	for i := 0; len(b.people) < 320; i++ {
		first, last := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames)+i)%len(lastNames)]
		n := i / (len(firstNames) * len(lastNames))
		user := strings.ToLower(first + "." + last)
		if n > 0 {
			user = fmt.Sprintf("%s%d", user, n+1)
		}
		p := &models.Person{Record: b.record(b.days(30, 700)), Email: user + "@demo.example",
			Name: first + " " + last, Username: ptr(user), ExternalID: ptr(fmt.Sprintf("idp-%05d", i+1))}
		b.people = append(b.people, p)
		dept := departments[b.rnd.IntN(len(departments))]
		if i%3 == 0 {
			dept = "Engineering"
		}
		b.members[dept] = append(b.members[dept], p)
	}
	_, err := b.s.Insert(&b.people).Exec(ctx)
	return err
}

func (b *builder) buildGroups(ctx context.Context) error {
	b.groups = map[string]*models.Group{}
	var rows []*models.Group
	var members []*models.GroupMember
	for _, d := range departments {
		g := &models.Group{Record: b.record(b.days(300, 600)), Name: d, Description: ptr("Everyone in " + d)}
		b.groups[d] = g
		rows = append(rows, g)
		for _, p := range b.members[d] {
			members = append(members, &models.GroupMember{TenantID: b.tenant, GroupID: g.ID, PersonID: p.ID,
				AddedAt: g.CreatedAt, AddedBy: AdminSubject})
		}
	}
	// A small cross-team group, to show a person reached by two groups.
	oncall := &models.Group{Record: b.record(100 * 24 * time.Hour), Name: "On-call", Description: ptr("Incident responders")}
	b.groups["On-call"] = oncall
	rows = append(rows, oncall)
	for _, p := range append(b.members["Engineering"][:12], b.members["Support"][:6]...) {
		b.members["On-call"] = append(b.members["On-call"], p)
		members = append(members, &models.GroupMember{TenantID: b.tenant, GroupID: oncall.ID, PersonID: p.ID,
			AddedAt: oncall.CreatedAt, AddedBy: AdminSubject})
	}
	if _, err := b.s.Insert(&rows).Exec(ctx); err != nil {
		return err
	}
	_, err := b.s.Insert(&members).Exec(ctx)
	return err
}

func (b *builder) buildLicenses(ctx context.Context) error {
	b.licenses = map[string]*models.License{}
	var rows []*models.License
	for _, spec := range licenseSpecs {
		l := &models.License{Record: b.record(b.days(200, 500)), Name: spec.name, Vendor: spec.vendor,
			ProgramKey: ptr(spec.program), Metadata: map[string]any{"purchaseOrder": "PO-" + strings.ToUpper(spec.key)}}
		starts := l.CreatedAt
		l.StartsAt = &starts
		if spec.seats > 0 {
			l.TotalSeats = ptr(spec.seats)
		}
		if spec.expiresIn != 0 {
			l.ExpiresAt = ptr(b.now.Add(spec.expiresIn).Truncate(time.Hour))
		}
		b.licenses[spec.key] = l
		rows = append(rows, l)
	}
	_, err := b.s.Insert(&rows).Exec(ctx)
	return err
}

// grant is one assignment to insert, with the events of its life.
type grant struct {
	a      *models.Assignment
	events []*models.AssignmentEvent
}

func (b *builder) newAssignment(l *models.License, ago time.Duration) *models.Assignment {
	a := &models.Assignment{Record: b.record(ago), LicenseID: l.ID, AssignedAt: b.now.Add(-ago),
		AssignedBy: AdminSubject, AssignedByPersonID: &b.admin.ID, Active: true, Fulfilled: true, Metadata: map[string]any{}}
	if b.rnd.IntN(6) > 0 {
		used := b.now.Add(-b.days(0, 170))
		if used.After(a.AssignedAt) {
			a.LastUsedAt = &used
		}
	}
	return a
}

func (b *builder) event(a *models.Assignment, t models.EventType, at time.Time, changes map[string]any) *models.AssignmentEvent {
	if changes == nil {
		changes = map[string]any{}
	}
	return &models.AssignmentEvent{TenantID: b.tenant, ID: uuid.Must(uuid.NewV7()), AssignmentID: a.ID, Type: t,
		Actor: AdminSubject, ActorType: models.SourceSystem, OccurredAt: at, Changes: changes}
}

// direct grants l to the first n people of pool, with a mix of states.
func (b *builder) direct(l *models.License, pool []*models.Person, n int, mix bool) []grant {
	var out []grant
	for i, p := range pool[:n] {
		a := b.newAssignment(l, b.days(20, 180))
		a.PersonID = &p.ID
		g := grant{a: a, events: []*models.AssignmentEvent{b.event(a, models.EventAssigned, a.AssignedAt, map[string]any{"personId": p.ID})}}
		switch {
		case mix && i%11 == 3:
			a.Active = false
			g.events = append(g.events, b.event(a, models.EventSuspended, a.AssignedAt.Add(48*time.Hour), map[string]any{"active": false}))
		case mix && i%13 == 5:
			expires := b.now.Add(-b.days(2, 15))
			a.ExpiresAt, a.ExpiredAt = &expires, &expires
			g.events = append(g.events, b.event(a, models.EventExpired, expires, nil))
		case mix && i%17 == 7:
			revoked := b.now.Add(-b.days(1, 10))
			a.RevokedAt, a.RevokedBy, a.RevokeReason = &revoked, ptr(AdminSubject), ptr("left the team")
			g.events = append(g.events, b.event(a, models.EventRevoked, revoked, map[string]any{"reason": "left the team"}))
		case mix && i%7 == 2:
			expires := b.now.Add(b.days(10, 90))
			a.ExpiresAt = &expires
		}
		out = append(out, g)
	}
	return out
}

// groupGrant grants l to group, with an inherited assignment per member.
func (b *builder) groupGrant(l *models.License, group string) []grant {
	g := b.groups[group]
	parent := b.newAssignment(l, b.days(60, 200))
	parent.GroupID, parent.LastUsedAt = &g.ID, nil
	out := []grant{{a: parent, events: []*models.AssignmentEvent{b.event(parent, models.EventAssigned, parent.AssignedAt, map[string]any{"groupId": g.ID})}}}
	for _, p := range b.members[group] {
		a := b.newAssignment(l, b.now.Sub(parent.AssignedAt))
		a.PersonID, a.ViaAssignmentID, a.ViaGroupID = &p.ID, &parent.ID, &g.ID
		out = append(out, grant{a: a, events: []*models.AssignmentEvent{b.event(a, models.EventAssigned, a.AssignedAt, map[string]any{"viaGroupId": g.ID})}})
	}
	return out
}

func (b *builder) invite(l *models.License, email string) grant {
	a := b.newAssignment(l, b.days(1, 10))
	a.Email, a.Fulfilled, a.LastUsedAt = &email, false, nil
	a.RedirectTo = ptr("https://apps.demo.example/welcome")
	return grant{a: a, events: []*models.AssignmentEvent{b.event(a, models.EventAssigned, a.AssignedAt, map[string]any{"email": email})}}
}

func (b *builder) buildAssignments(ctx context.Context) error {
	eng, design, data := b.members["Engineering"], b.members["Design"], b.members["Data"]
	var grants []grant
	L := b.licenses
	grants = append(grants, b.direct(L["intellij"], eng, min(len(eng), 55), true)...)
	grants = append(grants, b.direct(L["figma"], append(design, eng...), 23, true)...)
	grants = append(grants, b.invite(L["figma"], "new.designer@demo.example"))
	grants = append(grants, b.groupGrant(L["jira"], "Engineering")...)
	grants = append(grants, b.groupGrant(L["jira"], "Product")...)
	// Some engineers also hold Jira directly: they still count once.
	grants = append(grants, b.direct(L["jira"], eng, 5, false)...)
	grants = append(grants, b.groupGrant(L["slack"], "Sales")...)
	grants = append(grants, b.groupGrant(L["slack"], "Support")...)
	grants = append(grants, b.groupGrant(L["zoom"], "Sales")...)
	grants = append(grants, b.groupGrant(L["1password"], "On-call")...)
	grants = append(grants, b.groupGrant(L["1password"], "Engineering")...)
	grants = append(grants, b.direct(L["adobe"], append(design, b.members["Product"]...), 9, false)...)
	grants = append(grants, b.direct(L["vs"], eng[20:], 12, true)...)
	grants = append(grants, b.direct(L["copilot"], eng, 36, true)...)
	grants = append(grants, b.invite(L["copilot"], "new.hire@demo.example"), b.invite(L["copilot"], "contractor@partner.example"))
	grants = append(grants, b.direct(L["autocad"], design, 5, false)...)
	// AutoCAD is full: two more people wait for a seat, first come first served.
	for i, p := range design[5:7] {
		a := b.newAssignment(L["autocad"], time.Duration(5-i)*24*time.Hour)
		a.PersonID, a.LastUsedAt = &p.ID, nil
		a.WaitlistedAt = &a.AssignedAt
		grants = append(grants, grant{a: a, events: []*models.AssignmentEvent{b.event(a, models.EventWaitlisted, a.AssignedAt, nil)}})
	}
	grants = append(grants, b.direct(L["tableau"], data, min(len(data), 7), false)...)
	grants = append(grants, b.direct(L["sketch"], design, 9, false)...)
	grants = append(grants, b.direct(L["postman"], eng[30:], 14, true)...)

	// Parents (group grants) first: inherited rows reference them.
	var rows []*models.Assignment
	var events []*models.AssignmentEvent
	for _, g := range grants {
		rows = append(rows, g.a)
		events = append(events, g.events...)
	}
	b.assignments = len(rows)
	for _, batch := range chunks(rows, 500) {
		if _, err := b.s.Insert(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("seed assignments: %w", err)
		}
	}
	for _, batch := range chunks(events, 500) {
		if _, err := b.s.Insert(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("seed events: %w", err)
		}
	}
	return nil
}

func chunks[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

func ptr[T any](v T) *T { return &v }
