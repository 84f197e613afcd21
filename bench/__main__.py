"""``python -m bench`` (or ``make bench``): run every benchmark in turn."""

from bench import ems_allocate

print("== ems_allocate: time per allocate() call ==")
ems_allocate.main([])
