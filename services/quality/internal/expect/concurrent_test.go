package expect_test

import (
	"sync"
	"testing"
)

// TestConcurrentChecks runs one compiled suite from several goroutines (run
// with -race): compiled expectations are immutable.
func TestConcurrentChecks(t *testing.T) {
	suite := rowSuite(t)
	rows := leadRows(200)
	want := 0
	for _, row := range rows {
		for _, e := range suite {
			if ok, _ := e.Check(row); !ok {
				want++
			}
		}
	}
	if want == 0 {
		t.Fatal("the rows should fail some checks")
	}
	var wg sync.WaitGroup
	got := make([]int, 4)
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, row := range rows {
				for _, e := range suite {
					if ok, _ := e.Check(row); !ok {
						got[g]++
					}
				}
			}
		}()
	}
	wg.Wait()
	for g, n := range got {
		if n != want {
			t.Errorf("goroutine %d counted %d failures, want %d", g, n, want)
		}
	}
}
