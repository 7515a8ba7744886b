"""Memory of a fit or a call: the RSS high-water rise and the heap peak.

Two figures, each above what the process held before: "heap MB" is the
tracemalloc peak of a separate run (NumPy's allocations report to
tracemalloc; Numba's NRT and PyTorch's allocators do not, so PyTorch shows
none); "RSS MB" is the rise of the process's resident high-water mark during
the timed run (VmHWM, reset through /proc/self/clear_refs; Linux only). RSS
counts every allocator but misses memory that the allocator hands back from
earlier frees.
"""

import gc
import tracemalloc


def _proc_status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class RssRise:
    """Rise of the resident-set high-water mark over a ``with`` block, in MB.

    Linux only (``mb`` stays None elsewhere): writing 5 to
    /proc/self/clear_refs resets VmHWM to the current RSS.
    """

    def __enter__(self):
        self.mb = None
        gc.collect()
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")
            self._start = _proc_status_kb("VmRSS")
        except OSError:
            self._start = None
        return self

    def __exit__(self, *exc):
        if self._start is not None:
            self.mb = max(_proc_status_kb("VmHWM") - self._start, 0) / 1024
        return False


def heap_peak_mb(function):
    """tracemalloc peak of what ``function()`` allocates, in MB."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / 2**20
