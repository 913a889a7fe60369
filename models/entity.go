package models

// IsEntity marks the four records as Apollo Federation entities; the
// generated subgraph code needs the marker, which imports nothing.
func (License) IsEntity() {}

// IsEntity marks Assignment as a federation entity.
func (Assignment) IsEntity() {}

// IsEntity marks Person as a federation entity.
func (Person) IsEntity() {}

// IsEntity marks Group as a federation entity.
func (Group) IsEntity() {}
