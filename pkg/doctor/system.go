package doctor

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Host facts, read from /proc and uname. Fields are "" or 0 when unknown.
type Host struct {
	KernelRelease string // uname -r, e.g. "5.10.0-28-amd64"
	Machine       string // uname -m, e.g. "x86_64"
	// AddressSpaceLimit is the soft "Max address space" limit (ulimit -v)
	// in bytes; 0 means unlimited or unknown.
	AddressSpaceLimit uint64
	// GOOS and GOARCH the running binary was built for.
	GOOS, GOARCH string
}

// ReadHost reads the facts of the machine the program runs on.
// limitsPath is normally /proc/self/limits.
func ReadHost(limitsPath string) Host {
	h := Host{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	h.KernelRelease, h.Machine = uname()
	if data, err := os.ReadFile(limitsPath); err == nil {
		h.AddressSpaceLimit = parseAddressSpace(string(data))
	}
	return h
}

// parseAddressSpace finds the soft limit in /proc/self/limits:
// "Max address space   unlimited   unlimited   bytes".
func parseAddressSpace(limits string) uint64 {
	for _, line := range strings.Split(limits, "\n") {
		if !strings.HasPrefix(line, "Max address space") {
			continue
		}
		f := strings.Fields(strings.TrimPrefix(line, "Max address space"))
		if len(f) == 0 || f[0] == "unlimited" {
			return 0
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	return 0
}

// kernelAtLeast reports whether a release like "3.10.0-1160.el7" is at
// least major.minor; ok is false when it cannot be parsed.
func kernelAtLeast(release string, major, minor int) (atLeast, ok bool) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false, false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return false, false
	}
	return ma > major || (ma == major && mi >= minor), true
}

// Address space each build needs just to start (Go reserves its heap
// bookkeeping up front): measured about 720 MB for linux/amd64; linux/386
// starts under a 128 MB limit.
const (
	amd64NeedsBytes = 720 << 20
	i386NeedsBytes  = 128 << 20
)

func checkHost(r *Report, h Host) {
	// Kernel.
	c := Check{ID: "host.kernel", Title: "Ядро Linux"}
	switch at, ok := kernelAtLeast(h.KernelRelease, 3, 2); {
	case h.KernelRelease == "":
		c.Mark, c.Detail = Warn, "версию ядра узнать не удалось"
		c.Fix = "Программе нужен Linux 3.2 или новее; уточните версию у хостинга."
	case !ok:
		c.Mark, c.Detail = Warn, h.KernelRelease+" (версию не удалось разобрать)"
	case !at:
		c.Mark, c.Detail = Fail, h.KernelRelease+" — слишком старое"
		c.Fix = "Программе нужен Linux 3.2 или новее (CloudLinux 6 с ядром 2.6.32 не подходит). Попросите хостинг перенести сайт на сервер с новым ядром."
	default:
		c.Mark, c.Detail = OK, h.KernelRelease
	}
	r.add(c)

	// Architecture of this binary.
	a := Check{ID: "host.arch", Title: "Сборка программы", Mark: OK}
	a.Detail = h.GOOS + "-" + h.GOARCH
	if h.Machine != "" {
		a.Detail += ", процессор сервера " + h.Machine
	}
	if h.GOARCH == "386" {
		a.Detail += " (сборка для хостингов с ограничением памяти)"
	}
	r.add(a)

	// Virtual memory limit (ulimit -v, RLimitMEM, CloudLinux LVE).
	m := Check{ID: "host.vmem", Title: "Ограничение виртуальной памяти (ulimit -v)"}
	need := uint64(amd64NeedsBytes)
	if h.GOARCH == "386" {
		need = i386NeedsBytes
	}
	switch lim := h.AddressSpaceLimit; {
	case lim == 0:
		m.Mark, m.Detail = OK, "нет"
	case lim < need && h.GOARCH == "amd64":
		m.Mark, m.Detail = Warn, fmt.Sprintf("%d МБ — меньше, чем нужно сборке linux-amd64 для запуска (около %d МБ)", lim>>20, need>>20)
		m.Fix = "Установите сборку linux-386 (ZIP с «linux-386» в имени): она запускается при ограничении от 128 МБ.\n" +
			"Признак проблемы — «fatal error: failed to reserve page summary memory» в журнале ошибок веб-сервера или ошибка 500 с пустой страницей."
	case lim < need:
		m.Mark, m.Detail = Warn, fmt.Sprintf("%d МБ — меньше, чем нужно программе (около %d МБ)", lim>>20, need>>20)
		m.Fix = "Попросите хостинг поднять ограничение памяти для сайта хотя бы до 256 МБ."
	default:
		m.Mark, m.Detail = OK, fmt.Sprintf("%d МБ — достаточно", lim>>20)
	}
	r.add(m)
}
