package proactive

// PlansBehind is how many plans run outside the scheduler, for tests that
// wait for the service to settle.
func PlansBehind(s *Service) int64 { return s.behind.Load() }
