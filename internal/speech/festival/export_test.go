package festival

// WarmPID is the process id of f's warm engine; 0 when none is running.
func WarmPID(f *Festival) int {
	if f.warm == nil {
		return 0
	}
	f.warm.mu.Lock()
	defer f.warm.mu.Unlock()
	if f.warm.p == nil {
		return 0
	}
	select {
	case <-f.warm.p.done:
		return 0
	default:
		return f.warm.p.cmd.Process.Pid
	}
}

var SchemeString = schemeString
