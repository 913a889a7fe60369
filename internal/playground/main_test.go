package playground_test

import (
	"os"
	"testing"

	"seatgraph/internal/apitest"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }
