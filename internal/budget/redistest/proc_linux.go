package redistest

import "syscall"

// dieWithParent has the kernel kill redis-server if the test binary dies first, so that no server outlives a
// crashed or killed test run.
func dieWithParent() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
