// Package seed fills a tenant with demo data worth exploring: licenses from
// real-sounding vendors (unlimited, nearly full, full with a waitlist, one
// expired), a few hundred people, groups with group grants and inherited
// seats, email invitations, and suspended, expired and revoked seats with
// usage spread over months. It replays that history through the same
// service code as the mutations, at the times it happened.
package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"seatgraph/internal/directory"
	"seatgraph/internal/economics"
	"seatgraph/internal/gid"
	"seatgraph/internal/licensing"
	"seatgraph/internal/money"
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
// or people is left as it is.
func Run(ctx context.Context, db *store.DB, tenant string) (Result, error) {
	sess := db.Session(ctx, store.Tenant{ID: tenant})
	licenses, err := licensing.LicenseList(&licensing.LicenseFilter{IncludeDeleted: ptr(true)}, nil).Count(ctx, sess)
	people := 0
	if err == nil {
		people, err = directory.PersonList(&directory.PersonFilter{IncludeDeleted: ptr(true)}, nil).Count(ctx, sess)
	}
	if cerr := sess.Close(); err == nil {
		err = cerr
	}
	if err != nil || licenses+people > 0 {
		return Result{}, err
	}
	b := &builder{ctx: ctx, db: db, tenant: tenant, now: time.Now().UTC(), rnd: rand.New(rand.NewPCG(7, 11)),
		members: map[string][]*models.Person{}, groups: map[string]string{}, licenses: map[string]string{}}
	if err := b.build(); err != nil {
		return Result{}, err
	}
	if _, err := licensing.ExpireTenant(ctx, db, tenant); err != nil {
		return Result{}, err
	}
	if err := backfill(ctx, db, tenant, historyDays); err != nil {
		return Result{}, err
	}
	if _, err := economics.SnapshotTenant(ctx, db, tenant); err != nil {
		return Result{}, err
	}
	return Result{Created: true, Licenses: len(b.licenses), People: len(b.people), Groups: len(b.groups), Assignments: b.assignments}, nil
}

type builder struct {
	ctx         context.Context
	db          *store.DB
	tenant      string
	now         time.Time
	rnd         *rand.Rand
	people      []*models.Person
	members     map[string][]*models.Person
	groups      map[string]string // name -> TypeID
	licenses    map[string]string // key -> TypeID
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

const day = 24 * time.Hour

type licenseSpec struct {
	key, name, vendor, program string
	seats                      int           // 0 = unlimited
	expiresIn                  time.Duration // from now; 0 = never
}

var licenseSpecs = []licenseSpec{
	{"intellij", "IntelliJ IDEA Ultimate", "JetBrains", "IIU", 60, 200 * day},
	{"figma", "Figma Professional", "Figma", "FIGMA-PRO", 25, 300 * day},
	{"jira", "Jira Software Cloud", "Atlassian", "JSW", 0, 365 * day},
	{"slack", "Slack Business+", "Salesforce", "SLACK-BP", 0, 0},
	{"adobe", "Creative Cloud All Apps", "Adobe", "CC-ALL", 10, 120 * day},
	{"vs", "Visual Studio Enterprise", "Microsoft", "VSE", 15, 90 * day},
	{"copilot", "GitHub Copilot Business", "GitHub", "COPILOT-BIZ", 40, 330 * day},
	{"zoom", "Zoom Workplace Business", "Zoom", "ZW-BIZ", 0, 0},
	{"autocad", "AutoCAD", "Autodesk", "ACD", 5, 180 * day},
	{"tableau", "Tableau Creator", "Salesforce", "TAB-CREATOR", 8, 60 * day},
	{"sketch", "Sketch", "Sketch B.V.", "SKETCH", 12, -30 * day},
	{"1password", "1Password Business", "1Password", "1P-BIZ", 0, 400 * day},
	{"postman", "Postman Enterprise", "Postman", "PM-ENT", 20, 240 * day},
}

// terms are the licenses' prices and renewals: per seat, per period,
// renewing renewsIn from now (0: no renewal date).
var terms = map[string]struct {
	cost, currency string
	period         models.BillingPeriod
	renewsIn       time.Duration
}{
	"intellij":  {"599.00", "USD", models.BillingAnnual, 200 * day},
	"figma":     {"45.00", "USD", models.BillingMonthly, 25 * day},
	"jira":      {"8.60", "USD", models.BillingMonthly, 365 * day},
	"slack":     {"15.00", "USD", models.BillingMonthly, 0},
	"adobe":     {"89.99", "EUR", models.BillingMonthly, 40 * day},
	"vs":        {"250.00", "USD", models.BillingMonthly, 75 * day},
	"copilot":   {"19.00", "USD", models.BillingMonthly, 14 * day},
	"zoom":      {"21.99", "USD", models.BillingMonthly, 0},
	"autocad":   {"2030.00", "USD", models.BillingAnnual, 30 * day},
	"tableau":   {"900.00", "USD", models.BillingAnnual, 60 * day},
	"sketch":    {"120.00", "EUR", models.BillingAnnual, 0},
	"1password": {"7.99", "USD", models.BillingMonthly, 120 * day},
	"postman":   {"49.00", "USD", models.BillingMonthly, 150 * day},
}

// at is the seed's actor, writing at a moment of the past.
func (b *builder) at(t time.Time) licensing.Actor {
	return licensing.Actor{Tenant: store.Tenant{ID: b.tenant}, Subject: AdminSubject, Source: "seed",
		SourceType: models.SourceSystem, At: t}
}

// ago is a random moment between lo and hi days ago.
func (b *builder) ago(lo, hi int) time.Time {
	return b.now.Add(-time.Duration(lo+b.rnd.IntN(hi-lo+1)) * day)
}

func (b *builder) build() error {
	for _, step := range []func() error{b.buildPeople, b.buildGroups, b.buildLicenses, b.buildAssignments} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) person(at time.Time, in directory.CreatePersonInput) (*models.Person, error) {
	res, err := directory.CreatePerson(b.ctx, b.db, b.at(at), in)
	if err != nil {
		return nil, fmt.Errorf("seed person %s: %w", in.Email, err)
	}
	b.people = append(b.people, res.Person)
	return res.Person, nil
}

func (b *builder) buildPeople() error {
	if _, err := b.person(b.now.Add(-400*day), directory.CreatePersonInput{Email: "avery.admin@demo.example",
		Name: ptr("Avery Admin"), Username: ptr("avery"), ExternalID: ptr(AdminSubject)}); err != nil {
		return err
	}
	for i := 0; len(b.people) < 320; i++ {
		first, last := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames)+i)%len(lastNames)]
		user := strings.ToLower(first + "." + last)
		if n := i / (len(firstNames) * len(lastNames)); n > 0 {
			user = fmt.Sprintf("%s%d", user, n+1)
		}
		p, err := b.person(b.ago(400, 700), directory.CreatePersonInput{Email: user + "@demo.example",
			Name: ptr(first + " " + last), Username: ptr(user), ExternalID: ptr(fmt.Sprintf("idp-%05d", i+1))})
		if err != nil {
			return err
		}
		dept := departments[b.rnd.IntN(len(departments))]
		if i%3 == 0 {
			dept = "Engineering"
		}
		b.members[dept] = append(b.members[dept], p)
	}
	b.members["On-call"] = append(append([]*models.Person{}, b.members["Engineering"][:12]...), b.members["Support"][:6]...)
	return nil
}

func (b *builder) buildGroups() error {
	for _, name := range append(departments, "On-call") {
		desc := "Everyone in " + name
		if name == "On-call" {
			desc = "Incident responders"
		}
		ids := make([]string, len(b.members[name]))
		for i, p := range b.members[name] {
			ids[i] = gid.Person.Format(p.ID)
		}
		res, err := directory.CreateGroup(b.ctx, b.db, b.at(b.ago(300, 390)),
			directory.CreateGroupInput{Name: name, Description: &desc, MemberIDs: ids})
		if err != nil {
			return fmt.Errorf("seed group %s: %w", name, err)
		}
		b.groups[name] = gid.Group.Format(res.Group.ID)
	}
	return nil
}

func (b *builder) buildLicenses() error {
	for _, spec := range licenseSpecs {
		created := b.ago(200, 290)
		in := licensing.CreateLicenseInput{Name: spec.name, Vendor: ptr(spec.vendor), ProgramKey: ptr(spec.program),
			StartsAt: &created, Metadata: map[string]any{"purchaseOrder": "PO-" + strings.ToUpper(spec.key)}}
		if spec.seats > 0 {
			in.TotalSeats = ptr(spec.seats)
		}
		if spec.expiresIn != 0 {
			in.ExpiresAt = ptr(b.now.Add(spec.expiresIn).Truncate(time.Hour))
		}
		if tm, ok := terms[spec.key]; ok {
			in.CostPerSeat, in.BillingPeriod = &money.Money{Amount: tm.cost, Currency: tm.currency}, ptr(tm.period)
			if tm.renewsIn != 0 {
				in.RenewsAt = ptr(b.now.Add(tm.renewsIn).Truncate(day))
			}
		}
		res, err := licensing.CreateLicense(b.ctx, b.db, b.at(created), in)
		if err != nil {
			return fmt.Errorf("seed license %s: %w", spec.name, err)
		}
		b.licenses[spec.key] = gid.License.Format(res.License.ID)
	}
	return nil
}

// assign replays one assignLicense at time at.
func (b *builder) assign(at time.Time, in licensing.AssignInput) (*models.Assignment, error) {
	res, err := licensing.Assign(b.ctx, b.db, b.at(at), in)
	if err != nil {
		return nil, fmt.Errorf("seed assignment: %w", err)
	}
	b.assignments++
	return res.Assignment, nil
}

// use records a few uses of a seat between when it was assigned and now.
func (b *builder) use(a *models.Assignment) error {
	if b.rnd.IntN(6) == 0 {
		return nil // never used
	}
	span := b.now.Sub(a.AssignedAt)
	usedAt := a.AssignedAt.Add(time.Duration(b.rnd.Int64N(int64(span))))
	_, err := licensing.RecordUsage(b.ctx, b.db, b.at(usedAt), licensing.UsageInput{
		AssignmentID: ptr(gid.Assignment.Format(a.ID)), UsedAt: &usedAt})
	return err
}

// direct grants a license to the first n people of pool; with mix, some
// seats end suspended, expired, revoked or expiring soon.
func (b *builder) direct(key string, pool []*models.Person, n int, mix bool) error {
	newest := 20
	if key == "sketch" {
		newest = 40 // before the license expired
	}
	for i, p := range pool[:min(n, len(pool))] {
		at := b.ago(newest, 180)
		in := licensing.AssignInput{LicenseID: b.licenses[key], PersonID: ptr(gid.Person.Format(p.ID))}
		switch {
		case mix && i%11 == 3:
			in.Active = ptr(false)
		case mix && i%13 == 5:
			in.ExpiresAt = ptr(b.ago(2, 15)) // ended a few days ago: the expiry job ends it
		case mix && i%7 == 2:
			in.ExpiresAt = ptr(b.now.Add(time.Duration(10+b.rnd.IntN(80)) * day))
		}
		a, err := b.assign(at, in)
		if err != nil {
			return err
		}
		if mix && i%17 == 7 {
			_, err := licensing.Revoke(b.ctx, b.db, b.at(b.ago(1, 10)),
				licensing.RevokeInput{ID: gid.Assignment.Format(a.ID), Reason: ptr("left the team")})
			if err != nil {
				return err
			}
			continue
		}
		if err := b.use(a); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) groupGrant(key, group string) error {
	_, err := b.assign(b.ago(150, 190), licensing.AssignInput{LicenseID: b.licenses[key], GroupID: ptr(b.groups[group])})
	return err
}

func (b *builder) invite(key, email string) error {
	_, err := b.assign(b.ago(1, 10), licensing.AssignInput{LicenseID: b.licenses[key], Email: &email,
		RedirectTo: ptr("https://apps.demo.example/welcome")})
	return err
}

func (b *builder) buildAssignments() error {
	eng, design, data, product := b.members["Engineering"], b.members["Design"], b.members["Data"], b.members["Product"]
	steps := []func() error{
		func() error { return b.direct("intellij", eng, 55, true) },
		func() error {
			return b.direct("figma", append(append([]*models.Person{}, design...), eng...), 23, true)
		},
		func() error { return b.invite("figma", "new.designer@demo.example") },
		func() error { return b.groupGrant("jira", "Engineering") },
		func() error { return b.groupGrant("jira", "Product") },
		// Some engineers also hold Jira directly: they still count once.
		func() error { return b.direct("jira", eng, 5, false) },
		func() error { return b.groupGrant("slack", "Sales") },
		func() error { return b.groupGrant("slack", "Support") },
		func() error { return b.groupGrant("zoom", "Sales") },
		func() error { return b.groupGrant("1password", "On-call") },
		func() error { return b.groupGrant("1password", "Engineering") },
		func() error {
			return b.direct("adobe", append(append([]*models.Person{}, design...), product...), 9, false)
		},
		func() error { return b.direct("vs", eng[20:], 12, true) },
		func() error { return b.direct("copilot", eng, 36, true) },
		func() error { return b.invite("copilot", "new.hire@demo.example") },
		func() error { return b.invite("copilot", "contractor@partner.example") },
		func() error { return b.direct("autocad", design, 5, false) },
		// AutoCAD is full: two more people wait for a seat, first come first served.
		func() error {
			for _, p := range design[5:7] {
				in := licensing.AssignInput{LicenseID: b.licenses["autocad"], PersonID: ptr(gid.Person.Format(p.ID)), Waitlist: ptr(true)}
				if _, err := b.assign(b.ago(1, 5), in); err != nil {
					return err
				}
			}
			return nil
		},
		func() error { return b.direct("tableau", data, 7, false) },
		// Sketch expired a month ago; its seats end with it.
		func() error { return b.direct("sketch", design, 9, false) },
		func() error { return b.direct("postman", eng[30:], 14, true) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
