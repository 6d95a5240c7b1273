"""ELF and DWARF access for process probes: images, symbols, a lazy per-CU DWARF index.

`image.ElfImage` opens one binary (PIE or fixed, build-id, symbols, separate debug
files); `dwarf_index.DwarfIndex` reads its DWARF one compilation unit at a time and
caches what it found on disk keyed by build-id; `lines` holds the line-table logic
(prologue ends, statement lines); `dwarf_vars` names variables and types as stap's
`-L` shows them; `query` answers a `function(...)`/`statement(...)` pattern the way
stap's dwarf_query does. Nothing here knows the probe-point syntax.
"""
