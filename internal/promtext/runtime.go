package promtext

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// GoRuntime returns the go_* families that the Prometheus Go client's default
// Go collector exposes (same names, types and labels), read from the running
// program: memory statistics, garbage collection pauses, goroutines, threads.
// It stops the world briefly (runtime.ReadMemStats), as that collector does.
func GoRuntime() []Family {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var gc debug.GCStats
	gc.PauseQuantiles = make([]time.Duration, 5)
	debug.ReadGCStats(&gc)
	threads, _ := runtime.ThreadCreateProfile(nil)

	// The settings that only runtime/metrics reports: the GC percentage may
	// have been set by the program (watch sets it), not only by GOGC.
	set := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}, {Name: "/sched/gomaxprocs:threads"}}
	metrics.Read(set)
	setting := func(i int) float64 {
		if set[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		// As a signed number, so that GOGC=off (a percentage of -1) reads -1.
		return float64(int64(set[i].Value.Uint64()))
	}

	quantiles := []float64{0, 0.25, 0.5, 0.75, 1}
	pauses := make([]Sample, 0, len(quantiles)+2)
	for i, q := range quantiles {
		pauses = append(pauses, Sample{Labels: []Label{{"quantile", FormatFloat(q)}}, Value: gc.PauseQuantiles[i].Seconds()})
	}
	pauses = append(pauses, Sample{Suffix: "_sum", Value: gc.PauseTotal.Seconds()}, Sample{Suffix: "_count", Value: float64(gc.NumGC)})

	lastGC := 0.0
	if ms.LastGC != 0 {
		lastGC = float64(ms.LastGC) / 1e9
	}
	fams := []Family{
		{Name: "go_gc_duration_seconds", Type: Summary, Samples: pauses,
			Help: "Stop-the-world pause durations of garbage collection cycles (quantiles over recent cycles; sum and count over all)."},
		gauge("go_gc_gogc_percent", "The garbage collector's heap growth target in percent (GOGC or set by the program; -1: off).", setting(0)),
		gauge("go_gc_gomemlimit_bytes", "The Go runtime's soft memory limit in bytes (GOMEMLIMIT or set by the program).", setting(1)),
		gauge("go_goroutines", "Goroutines that currently exist.", float64(runtime.NumGoroutine())),
		{Name: "go_info", Type: Info, Help: "The Go version the program was built with.",
			Samples: []Sample{{Labels: []Label{{"version", runtime.Version()}}, Value: 1}}},
		gauge("go_sched_gomaxprocs_threads", "GOMAXPROCS: threads that may run Go code at the same time.", setting(2)),
		gauge("go_threads", "Operating system threads the runtime has created.", float64(threads)),
	}
	for _, m := range []struct {
		name, help string
		typ        Type
		v          uint64
	}{
		{"alloc_bytes", "Bytes of heap objects currently allocated.", Gauge, ms.Alloc},
		{"alloc_bytes_total", "Bytes allocated for heap objects since the program started, freed or not.", Counter, ms.TotalAlloc},
		{"buck_hash_sys_bytes", "Bytes of the profiling bucket hash table.", Gauge, ms.BuckHashSys},
		{"frees_total", "Heap objects freed since the program started.", Counter, ms.Frees},
		{"gc_sys_bytes", "Bytes of garbage collection metadata.", Gauge, ms.GCSys},
		{"heap_alloc_bytes", "Bytes of heap objects currently allocated (same as go_memstats_alloc_bytes).", Gauge, ms.HeapAlloc},
		{"heap_idle_bytes", "Bytes of heap spans holding no object.", Gauge, ms.HeapIdle},
		{"heap_inuse_bytes", "Bytes of heap spans holding at least one object.", Gauge, ms.HeapInuse},
		{"heap_objects", "Heap objects currently allocated.", Gauge, ms.HeapObjects},
		{"heap_released_bytes", "Bytes of heap memory returned to the operating system.", Gauge, ms.HeapReleased},
		{"heap_sys_bytes", "Bytes of heap memory obtained from the operating system.", Gauge, ms.HeapSys},
		{"mallocs_total", "Heap objects allocated since the program started.", Counter, ms.Mallocs},
		{"mcache_inuse_bytes", "Bytes of mcache structures in use.", Gauge, ms.MCacheInuse},
		{"mcache_sys_bytes", "Bytes obtained from the operating system for mcache structures.", Gauge, ms.MCacheSys},
		{"mspan_inuse_bytes", "Bytes of mspan structures in use.", Gauge, ms.MSpanInuse},
		{"mspan_sys_bytes", "Bytes obtained from the operating system for mspan structures.", Gauge, ms.MSpanSys},
		{"next_gc_bytes", "Heap size at which the next garbage collection is due.", Gauge, ms.NextGC},
		{"other_sys_bytes", "Bytes of other runtime allocations.", Gauge, ms.OtherSys},
		{"stack_inuse_bytes", "Bytes of stack spans in use.", Gauge, ms.StackInuse},
		{"stack_sys_bytes", "Bytes of stack memory obtained from the operating system.", Gauge, ms.StackSys},
		{"sys_bytes", "Bytes obtained from the operating system in total.", Gauge, ms.Sys},
	} {
		// The gauge go_memstats_alloc_bytes and the counter
		// go_memstats_alloc_bytes_total would share the OpenMetrics name
		// go_memstats_alloc_bytes; OpenMetrics gets the counter, and the
		// gauge's value as go_memstats_heap_alloc_bytes (the Prometheus Go
		// client serves both, which makes its OpenMetrics output invalid:
		// prometheus/client_golang issue 829).
		fams = append(fams, Family{Name: "go_memstats_" + m.name, Help: m.help, Type: m.typ,
			Samples: []Sample{{Value: float64(m.v)}}, TextOnly: m.name == "alloc_bytes"})
	}
	fams = append(fams, gauge("go_memstats_last_gc_time_seconds", "Unix time of the last garbage collection (0: none yet).", lastGC))
	return fams
}

func gauge(name, help string, v float64) Family {
	return Family{Name: name, Help: help, Type: Gauge, Samples: []Sample{{Value: v}}}
}

func counter(name, help string, v float64) Family {
	return Family{Name: name, Help: help, Type: Counter, Samples: []Sample{{Value: v}}}
}
