package sphinx

// WarmPID is the process id of t's warm engine; 0 when none is running.
func WarmPID(t *Transcriber) int {
	if t.warm == nil {
		return 0
	}
	return t.warm.r.PID()
}

var ParseHyp = parseHyp
