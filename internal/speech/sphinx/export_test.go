package sphinx

// WarmPID is the process id of t's warm engine; 0 when none is running.
func WarmPID(t *Transcriber) int {
	if t.warm == nil {
		return 0
	}
	t.warm.mu.Lock()
	defer t.warm.mu.Unlock()
	if t.warm.p == nil {
		return 0
	}
	select {
	case <-t.warm.p.done:
		return 0
	default:
		return t.warm.p.cmd.Process.Pid
	}
}

var ParseHyp = parseHyp
