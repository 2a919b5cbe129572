package sim

import (
	"testing"
)

func TestBugStats(t *testing.T) {
	for _, bug := range Bugs {
		fired, caught, firedPassed := 0, 0, 0
		for seed := int64(1); seed <= 200; seed++ {
			r := Run(Options{Seed: seed, Bug: bug})
			if r.BugFired > 0 {
				fired++
				if r.Err != nil {
					caught++
				} else {
					firedPassed++
					if firedPassed < 3 { t.Logf("%s seed %d fired %d but passed", bug, seed, r.BugFired) }
				}
			}
		}
		t.Logf("%s: fired %d caught %d", bug, fired, caught)
	}
}
