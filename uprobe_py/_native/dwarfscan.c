/* dwarfscan: a fast reader of the DWARF that uprobe-py's DwarfIndex records.
 *
 * Written for uprobe-py (uprobe_py/elf/scan.py is its Python side).  It reads
 * .debug_info/.debug_abbrev and the string, address and range sections of a
 * little-endian ELF, and answers three questions, each into a flat uint64 vector
 * (`ds_out`) that Python decodes:
 *   ds_units      the unit headers (offset, end, version, format, address size, type)
 *   ds_scan_cu    one CU's index record: the walk DwarfIndex._scan_cu_pyelftools does
 *                 over pyelftools DIEs (same tags, same integration of
 *                 DW_AT_abstract_origin / DW_AT_specification, same entry pcs)
 *   ds_line       one line program: header file table and/or the rows
 * Strings are returned as references (section << 56 | offset) into the section
 * buffers Python passed in.  Any malformed or unusual input (a form this reader does
 * not interpret, a reference it cannot follow, data past a section's end) makes the
 * call return a negative status: the caller then uses pyelftools for that unit, so
 * results never differ from the reference implementation.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { S_INFO, S_ABBREV, S_STR, S_LINE_STR, S_STR_OFF, S_ADDR, S_RNGLISTS, S_RANGES, S_LINE, NSEC };

#define NONE UINT64_MAX
#define REF(sec, off) (((uint64_t)(sec) << 56) | (uint64_t)(off))

/* attributes this reader records (slot numbers) */
enum { A_NAME, A_LINKAGE, A_MIPS_LINKAGE, A_DECL_FILE, A_DECL_LINE, A_ENTRY_PC, A_LOW_PC, A_HIGH_PC,
       A_RANGES, A_INLINE, A_DECLARATION, A_ORIGIN, A_SPEC, A_LOCATION, A_LANGUAGE, A_PRODUCER,
       A_COMP_DIR, A_STMT_LIST, A_STR_OFF_BASE, A_ADDR_BASE, A_RNGLISTS_BASE, NATTR };

static int attr_slot(uint64_t at) {
    switch (at) {
    case 0x03: return A_NAME;
    case 0x6e: return A_LINKAGE;
    case 0x2007: return A_MIPS_LINKAGE;
    case 0x3a: return A_DECL_FILE;
    case 0x3b: return A_DECL_LINE;
    case 0x52: return A_ENTRY_PC;
    case 0x11: return A_LOW_PC;
    case 0x12: return A_HIGH_PC;
    case 0x55: return A_RANGES;
    case 0x20: return A_INLINE;
    case 0x3c: return A_DECLARATION;
    case 0x31: return A_ORIGIN;
    case 0x47: return A_SPEC;
    case 0x02: return A_LOCATION;
    case 0x13: return A_LANGUAGE;
    case 0x25: return A_PRODUCER;
    case 0x1b: return A_COMP_DIR;
    case 0x10: return A_STMT_LIST;
    case 0x72: return A_STR_OFF_BASE;
    case 0x73: return A_ADDR_BASE;
    case 0x74: return A_RNGLISTS_BASE;
    default: return -1;
    }
}

/* forms */
#define F_addr 0x01
#define F_block2 0x03
#define F_block4 0x04
#define F_data2 0x05
#define F_data4 0x06
#define F_data8 0x07
#define F_string 0x08
#define F_block 0x09
#define F_block1 0x0a
#define F_data1 0x0b
#define F_flag 0x0c
#define F_sdata 0x0d
#define F_strp 0x0e
#define F_udata 0x0f
#define F_ref_addr 0x10
#define F_ref1 0x11
#define F_ref2 0x12
#define F_ref4 0x13
#define F_ref8 0x14
#define F_ref_udata 0x15
#define F_indirect 0x16
#define F_sec_offset 0x17
#define F_exprloc 0x18
#define F_flag_present 0x19
#define F_strx 0x1a
#define F_addrx 0x1b
#define F_ref_sup4 0x1c
#define F_strp_sup 0x1d
#define F_data16 0x1e
#define F_line_strp 0x1f
#define F_ref_sig8 0x20
#define F_implicit_const 0x21
#define F_loclistx 0x22
#define F_rnglistx 0x23
#define F_ref_sup8 0x24
#define F_strx1 0x25
#define F_strx2 0x26
#define F_strx3 0x27
#define F_strx4 0x28
#define F_addrx1 0x29
#define F_addrx2 0x2a
#define F_addrx3 0x2b
#define F_addrx4 0x2c
#define F_GNU_addr_index 0x1f01
#define F_GNU_str_index 0x1f02
#define F_GNU_ref_alt 0x1f20
#define F_GNU_strp_alt 0x1f21

typedef struct { uint64_t name, form; int64_t implicit; } aspec_t;
typedef struct { uint64_t code, tag; int children; uint32_t first, n; } abbrev_t;

typedef struct {
    uint64_t off, end, die_off, abbrev_off;
    int version, unit_type, addr_size, offsize;
    /* lazily filled */
    int abbrevs_done, top_done;
    abbrev_t *abbrevs; uint32_t nabbrevs;
    abbrev_t **direct; uint32_t ndirect;      /* code -> abbrev for small codes */
    aspec_t *specs; uint32_t nspecs;
    int has_str_base, has_addr_base, has_rng_base;
    uint64_t str_base, addr_base, rng_base, low_pc; int has_low_pc;
} unit_t;

typedef struct { uint64_t form, val, aux; int set; } attr_t;   /* aux: string ref / data pointer offset */

typedef struct {
    uint64_t off, next, tag; int children; int null;
    attr_t a[NATTR];
} die_t;

typedef struct {
    const uint8_t *p[NSEC]; uint64_t n[NSEC];
    int elf_addr_size, ranges_mode;           /* ranges_mode: bit0 .debug_ranges, bit1 .debug_rnglists */
    unit_t *units; uint32_t nunits;
    uint64_t *out; uint64_t nout, capout;
    jmp_buf err;
    /* per-CU scratch for the scope chains */
    uint64_t *doff; uint32_t *dpar; uint64_t *dtag; uint8_t *dinpar; uint32_t nd, capd;
    uint64_t *funcs; uint64_t capf;
    uint64_t rows_pos;
} ds_ctx;

#define FAIL(c) longjmp((c)->err, 1)

static void push(ds_ctx *c, uint64_t v) {
    if (c->nout == c->capout) {
        uint64_t cap = c->capout ? c->capout * 2 : 4096;
        uint64_t *q = realloc(c->out, cap * sizeof *q);
        if (!q) FAIL(c);
        c->out = q; c->capout = cap;
    }
    c->out[c->nout++] = v;
}

/* --- primitive readers over one section, bounds-checked --- */
typedef struct { ds_ctx *c; const uint8_t *p; uint64_t n, pos; } rd_t;

static inline void need(rd_t *r, uint64_t k) { if (r->pos > r->n || r->n - r->pos < k) FAIL(r->c); }
static inline uint64_t u8(rd_t *r) { need(r, 1); return r->p[r->pos++]; }
static inline uint64_t uN(rd_t *r, int k) {
    need(r, k);
    uint64_t v = 0;
    for (int i = k - 1; i >= 0; i--) v = (v << 8) | r->p[r->pos + i];
    r->pos += k;
    return v;
}
static inline uint64_t uleb(rd_t *r) {
    uint64_t v = 0; int shift = 0;
    for (;;) {
        need(r, 1);
        uint8_t b = r->p[r->pos++];
        if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) return v;
    }
}
static inline int64_t sleb(rd_t *r) {
    int64_t v = 0; int shift = 0; uint8_t b;
    do {
        need(r, 1);
        b = r->p[r->pos++];
        if (shift < 64) v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40)) v |= -((int64_t)1 << shift);
    return v;
}
static inline void skip(rd_t *r, uint64_t k) { need(r, k); r->pos += k; }
static void skip_cstr(rd_t *r) {
    const uint8_t *z = r->pos < r->n ? memchr(r->p + r->pos, 0, r->n - r->pos) : NULL;
    if (!z) FAIL(r->c);
    r->pos = (uint64_t)(z - r->p) + 1;
}
static rd_t rd(ds_ctx *c, int sec, uint64_t pos) { rd_t r = {c, c->p[sec], c->n[sec], pos}; return r; }

static uint64_t str_at(ds_ctx *c, int sec, uint64_t off) {
    if (!c->p[sec] || off >= c->n[sec] || !memchr(c->p[sec] + off, 0, c->n[sec] - off)) FAIL(c);
    return REF(sec, off);
}

/* --- units --- */
static unit_t *unit_of(ds_ctx *c, uint64_t off) {
    uint32_t lo = 0, hi = c->nunits;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (c->units[mid].end <= off) lo = mid + 1; else hi = mid;
    }
    if (lo >= c->nunits || off < c->units[lo].die_off) return NULL;
    return &c->units[lo];
}

static unit_t *unit_hdr(ds_ctx *c, uint64_t off) {
    uint32_t lo = 0, hi = c->nunits;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (c->units[mid].end <= off) lo = mid + 1; else hi = mid;
    }
    return (lo < c->nunits && c->units[lo].off == off) ? &c->units[lo] : NULL;
}

static void load_abbrevs(ds_ctx *c, unit_t *u) {
    if (u->abbrevs_done) return;
    rd_t r = rd(c, S_ABBREV, u->abbrev_off);
    uint32_t cap = 64, scap = 256, n = 0, ns = 0;
    abbrev_t *ab = malloc(cap * sizeof *ab); aspec_t *sp = malloc(scap * sizeof *sp);
    if (!ab || !sp) { free(ab); free(sp); FAIL(c); }
    u->abbrevs = ab; u->specs = sp;            /* owned by the unit from here (freed on ds_free) */
    for (;;) {
        uint64_t code = uleb(&r);
        if (code == 0) break;
        if (n == cap) { cap *= 2; ab = realloc(u->abbrevs, cap * sizeof *ab); if (!ab) FAIL(c); u->abbrevs = ab; }
        abbrev_t *a = &ab[n];
        a->code = code; a->tag = uleb(&r); a->children = u8(&r) != 0; a->first = ns; a->n = 0;
        for (;;) {
            uint64_t name = uleb(&r), form = uleb(&r);
            int64_t imp = 0;
            if (form == F_implicit_const) imp = sleb(&r);
            if (name == 0 && form == 0) break;
            if (ns == scap) { scap *= 2; sp = realloc(u->specs, scap * sizeof *sp); if (!sp) FAIL(c); u->specs = sp; }
            sp[ns].name = name; sp[ns].form = form; sp[ns].implicit = imp; ns++; a->n++;
        }
        n++;
        u->nabbrevs = n;
    }
    u->nabbrevs = n; u->nspecs = ns;
    uint64_t maxc = 0;
    for (uint32_t i = 0; i < n; i++) if (ab[i].code > maxc && ab[i].code < 65536) maxc = ab[i].code;
    u->direct = calloc(maxc + 1, sizeof *u->direct);
    if (!u->direct) FAIL(c);
    u->ndirect = (uint32_t)maxc + 1;
    for (uint32_t i = 0; i < n; i++) if (ab[i].code < u->ndirect) u->direct[ab[i].code] = &ab[i];
    u->abbrevs_done = 1;
}

static abbrev_t *abbrev_for(ds_ctx *c, unit_t *u, uint64_t code) {
    load_abbrevs(c, u);
    if (code < u->ndirect) return u->direct[code];
    abbrev_t *found = NULL;
    for (uint32_t i = 0; i < u->nabbrevs; i++) if (u->abbrevs[i].code == code) found = &u->abbrevs[i];
    return found;
}

static void read_die(ds_ctx *c, unit_t *u, uint64_t off, die_t *d);
static int is_addr_form(uint64_t f) {
    return f == 0x01 || f == 0x1b || (f >= 0x29 && f <= 0x2c);
}

static void load_top(ds_ctx *c, unit_t *u) {
    if (u->top_done) return;
    u->top_done = 2;                         /* reading: strx/addrx in the top DIE are left raw */
    die_t d;
    read_die(c, u, u->die_off, &d);
    if (d.a[A_STR_OFF_BASE].set) { u->has_str_base = 1; u->str_base = d.a[A_STR_OFF_BASE].val; }
    if (d.a[A_ADDR_BASE].set) { u->has_addr_base = 1; u->addr_base = d.a[A_ADDR_BASE].val; }
    if (d.a[A_RNGLISTS_BASE].set) { u->has_rng_base = 1; u->rng_base = d.a[A_RNGLISTS_BASE].val; }
    u->top_done = 1;
    read_die(c, u, u->die_off, &d);          /* now with the bases: what pyelftools' top DIE holds */
    attr_t *lp = &d.a[A_LOW_PC];
    u->has_low_pc = lp->set && is_addr_form(lp->form);
    u->low_pc = u->has_low_pc ? lp->val : 0;
}

static uint64_t addr_index(ds_ctx *c, unit_t *u, uint64_t idx) {
    if (u->top_done != 1) load_top(c, u);
    if (u->top_done != 1 || !u->has_addr_base || !c->p[S_ADDR]) FAIL(c);
    rd_t r = rd(c, S_ADDR, u->addr_base + idx * (uint64_t)u->addr_size);
    return uN(&r, u->addr_size);
}

static uint64_t str_index(ds_ctx *c, unit_t *u, uint64_t idx) {
    if (u->top_done != 1) load_top(c, u);
    if (u->top_done != 1 || !u->has_str_base || !c->p[S_STR_OFF]) FAIL(c);
    rd_t r = rd(c, S_STR_OFF, u->str_base + idx * (uint64_t)u->offsize);
    return str_at(c, S_STR, uN(&r, u->offsize));
}

/* Parse the DIE at `off` of unit u, recording the attributes of interest (the last
 * occurrence of a repeated attribute wins, as in pyelftools' dict). */
static void read_die(ds_ctx *c, unit_t *u, uint64_t off, die_t *d) {
    rd_t r = rd(c, S_INFO, off);
    if (off >= u->end) FAIL(c);
    r.n = u->end;
    d->off = off;
    for (int i = 0; i < NATTR; i++) d->a[i].set = 0;
    uint64_t code = uleb(&r);
    if (code == 0) { d->null = 1; d->tag = 0; d->children = 0; d->next = r.pos; return; }
    d->null = 0;
    abbrev_t *ab = abbrev_for(c, u, code);
    if (!ab) FAIL(c);
    d->tag = ab->tag; d->children = ab->children;
    int translate = u->top_done != 2 || off != u->die_off;
    for (uint32_t i = 0; i < ab->n; i++) {
        aspec_t *s = &u->specs[ab->first + i];
        uint64_t form = s->form, val = 0, aux = NONE;
        int depth = 0;
    again:
        switch (form) {
        case F_addr: val = uN(&r, u->addr_size); break;
        case F_block2: val = r.pos; skip(&r, uN(&r, 2)); break;
        case F_block4: val = r.pos; skip(&r, uN(&r, 4)); break;
        case F_data2: val = uN(&r, 2); break;
        case F_data4: val = uN(&r, 4); break;
        case F_data8: val = uN(&r, 8); break;
        case F_string: aux = REF(S_INFO, r.pos); skip_cstr(&r); break;
        case F_block: case F_exprloc: { uint64_t k = uleb(&r); val = r.pos; skip(&r, k); break; }
        case F_block1: val = r.pos; skip(&r, uN(&r, 1)); break;
        case F_data1: case F_flag: val = u8(&r); break;
        case F_sdata: val = (uint64_t)sleb(&r); break;
        case F_strp: case F_line_strp: case F_sec_offset: case F_strp_sup: case F_GNU_ref_alt: case F_GNU_strp_alt:
            val = uN(&r, u->offsize); break;
        case F_ref_addr: val = uN(&r, u->version <= 2 ? u->addr_size : u->offsize); break;
        case F_udata: case F_ref_udata: case F_strx: case F_addrx: case F_loclistx: case F_rnglistx:
        case F_GNU_addr_index: case F_GNU_str_index:
            val = uleb(&r); break;
        case F_ref1: val = uN(&r, 1); break;
        case F_ref2: val = uN(&r, 2); break;
        case F_ref4: case F_ref_sup4: val = uN(&r, 4); break;
        case F_ref8: case F_ref_sig8: case F_ref_sup8: val = uN(&r, 8); break;
        case F_indirect:
            if (++depth > 8) FAIL(c);
            form = uleb(&r);
            if (form == F_implicit_const) FAIL(c);
            goto again;
        case F_flag_present: val = 1; break;
        case F_data16: val = r.pos; skip(&r, 16); break;
        case F_implicit_const: val = (uint64_t)s->implicit; break;
        case F_strx1: val = uN(&r, 1); break;
        case F_strx2: val = uN(&r, 2); break;
        case F_strx3: val = uN(&r, 3); break;
        case F_strx4: val = uN(&r, 4); break;
        case F_addrx1: val = uN(&r, 1); break;
        case F_addrx2: val = uN(&r, 2); break;
        case F_addrx3: val = uN(&r, 3); break;
        case F_addrx4: val = uN(&r, 4); break;
        default: FAIL(c);
        }
        int slot = attr_slot(s->name);
        if (slot < 0) continue;
        attr_t *a = &d->a[slot];
        a->set = 1; a->form = form; a->val = val; a->aux = aux;
        /* translations pyelftools makes when it parses the attribute */
        switch (form) {
        case F_strp: a->aux = str_at(c, S_STR, val); break;
        case F_line_strp: a->aux = str_at(c, S_LINE_STR, val); break;
        case F_strx: case F_strx1: case F_strx2: case F_strx3: case F_strx4:
            if (translate) a->aux = str_index(c, u, val);
            break;
        case F_addrx: case F_addrx1: case F_addrx2: case F_addrx3: case F_addrx4:
            if (translate) a->val = addr_index(c, u, val);
            break;
        case F_rnglistx:
            if (slot == A_RANGES) {
                if (!translate) break;
                if (u->top_done != 1) load_top(c, u);
                if (!u->has_rng_base || !c->p[S_RNGLISTS]) FAIL(c);
                rd_t t = rd(c, S_RNGLISTS, u->rng_base + val * (uint64_t)u->offsize);
                a->val = u->rng_base + uN(&t, u->offsize);
            }
            break;
        case F_GNU_addr_index: case F_GNU_str_index: case F_GNU_strp_alt: case F_strp_sup:
        case F_ref_sup4: case F_ref_sup8: case F_GNU_ref_alt:
            if (slot != A_LOCATION) FAIL(c);          /* left to pyelftools */
            break;
        default: break;
        }
    }
    d->next = r.pos;
}

static int is_const_form(uint64_t f) {
    return f == F_data1 || f == F_data2 || f == F_data4 || f == F_data8 || f == F_udata || f == F_sdata
        || f == F_implicit_const || f == F_flag || f == F_flag_present;
}
static int is_str_form(uint64_t f) {
    return f == F_string || f == F_strp || f == F_line_strp || f == F_strx || (f >= F_strx1 && f <= F_strx4);
}

/* The DIE offset a reference attribute points at (pyelftools' get_DIE_from_attribute),
 * failing (longjmp) where pyelftools would raise or this reader does not follow. */
static uint64_t ref_target(ds_ctx *c, unit_t *u, attr_t *a, unit_t **tu) {
    uint64_t t;
    switch (a->form) {
    case F_ref1: case F_ref2: case F_ref4: case F_ref8: case F_ref_udata:
        t = u->off + a->val; break;
    case F_ref_addr: t = a->val; break;
    default: return NONE;                       /* sig8, supplementary files: not followed */
    }
    unit_t *x = unit_of(c, t);
    if (!x) return NONE;
    *tu = x;
    return t;
}

#define REFFAIL (NONE - 1)

/* attr_integrate: the attribute on the DIE or along its abstract_origin/specification
 * chain (16 hops).  Returns 1 and fills *out (and *ou, the owning unit) or 0. */
static int integrate(ds_ctx *c, unit_t *u, uint64_t off, int slot, attr_t *out, unit_t **ou) {
    die_t d;
    for (int i = 0; i < 16; i++) {
        read_die(c, u, off, &d);
        if (d.a[slot].set) { *out = d.a[slot]; *ou = u; return 1; }
        attr_t *ref = d.a[A_ORIGIN].set ? &d.a[A_ORIGIN] : d.a[A_SPEC].set ? &d.a[A_SPEC] : NULL;
        if (!ref) return 0;
        unit_t *nu = u;
        uint64_t t = ref_target(c, u, ref, &nu);
        if (t == NONE) {
            if (ref->form == F_ref_sig8 || ref->form == F_ref_sup4 || ref->form == F_ref_sup8
                || ref->form == F_GNU_ref_alt) FAIL(c);   /* pyelftools might follow these */
            return 0;
        }
        u = nu; off = t;
    }
    return 0;
}

static uint64_t name_ref(ds_ctx *c, unit_t *u, uint64_t off, int slot) {
    attr_t a; unit_t *ou;
    if (!integrate(c, u, off, slot, &a, &ou)) return NONE;
    if (!is_str_form(a.form)) FAIL(c);
    return a.aux;
}

static int followable(uint64_t form) {
    return form == F_ref_addr || (form >= F_ref1 && form <= F_ref_udata);
}

/* ref_integrate(die, DW_AT_specification): the DIE it names, or NONE */
static uint64_t spec_integrate(ds_ctx *c, unit_t *u, uint64_t off, unit_t **tu) {
    die_t d;
    for (int i = 0; i < 16; i++) {
        read_die(c, u, off, &d);
        unit_t *nu = u;
        attr_t *ref = d.a[A_SPEC].set ? &d.a[A_SPEC] : d.a[A_ORIGIN].set ? &d.a[A_ORIGIN] : NULL;
        if (!ref) return NONE;
        if (!followable(ref->form) && ref->form != F_data1 && ref->form != F_data2 && ref->form != F_data4
            && ref->form != F_data8 && ref->form != F_udata && ref->form != F_sdata)
            FAIL(c);                                  /* sig8 and the like: left to pyelftools */
        uint64_t t = ref_target(c, u, ref, &nu);
        if (t == NONE) return NONE;
        if (ref == &d.a[A_SPEC]) { *tu = nu; return t; }
        u = nu; off = t;
    }
    return NONE;
}

/* The ranges of DW_AT_ranges, pushed as (lo, hi) pairs after the current output, as
 * dies.die_ranges reads them through pyelftools; returns the count, 0 when the list
 * cannot be read (pyelftools' exception: no ranges). */
static uint64_t collect_ranges(ds_ctx *c, unit_t *u, attr_t *ra) {
    int mode = c->ranges_mode;
    volatile int v5;
    if (mode == 0) return 0;
    if (mode == 1) v5 = 0; else if (mode == 2) v5 = 1; else v5 = u->version >= 5;
    if (u->top_done != 1) load_top(c, u);
    uint64_t base = u->has_low_pc ? u->low_pc : 0;
    int as = c->elf_addr_size;
    uint64_t maxa = as >= 8 ? UINT64_MAX : ((uint64_t)1 << (as * 8)) - 1;
    volatile uint64_t start = c->nout;
    jmp_buf save;
    memcpy(save, c->err, sizeof save);
    if (setjmp(c->err)) { memcpy(c->err, save, sizeof save); c->nout = start; return 0; }
    uint64_t n = 0;
    rd_t r = rd(c, v5 ? S_RNGLISTS : S_RANGES, ra->val);
    if (!r.p) FAIL(c);
    if (!v5) {
        for (;;) {
            uint64_t b = uN(&r, as), e = uN(&r, as);
            if (b == 0 && e == 0) break;
            if (b == maxa) { base = e; continue; }
            push(c, base + b); push(c, base + e); n++;
        }
    } else {
        for (;;) {
            uint64_t k = u8(&r);
            if (k == 0) break;
            uint64_t x, y;
            switch (k) {
            case 1: x = uleb(&r); base = addr_index(c, u, x); continue;
            case 2: x = uleb(&r); y = uleb(&r); push(c, addr_index(c, u, x)); push(c, addr_index(c, u, y)); break;
            case 3: x = uleb(&r); y = uleb(&r); x = addr_index(c, u, x); push(c, x); push(c, x + y); break;
            case 4: x = uleb(&r); y = uleb(&r); push(c, base + x); push(c, base + y); break;
            case 5: base = uN(&r, as); continue;
            case 6: x = uN(&r, as); y = uN(&r, as); push(c, x); push(c, y); break;
            case 7: x = uN(&r, as); y = uleb(&r); push(c, x); push(c, x + y); break;
            default: FAIL(c);
            }
            n++;
        }
    }
    memcpy(c->err, save, sizeof save);
    return n;
}

/* First range start of DW_AT_ranges (die_ranges()[0][0]); 1 if there is one. */
static int first_range(ds_ctx *c, unit_t *u, attr_t *ra, uint64_t *startp) {
    uint64_t pos = c->nout;
    uint64_t n = collect_ranges(c, u, ra);
    if (n) *startp = c->out[pos];
    c->nout = pos;
    return n > 0;
}

/* --- the walk --- */
static int in_set(uint64_t tag, const uint64_t *set, int n) {
    for (int i = 0; i < n; i++) if (set[i] == tag) return 1;
    return 0;
}
static const uint64_t C_FUNC[] = {0x2e, 0x0b, 0x1d};
static const uint64_t SCOPE[] = {0x11, 0x1e, 0x0b, 0x22, 0x25, 0x32, 0x03, 0x1d, 0x2e, 0x39, 0x02, 0x13};
static const uint64_t INLINE[] = {0x11, 0x1e, 0x0b, 0x22, 0x25, 0x32, 0x03, 0x1d, 0x2e};
static const uint64_t PSCOPE[] = {0x39, 0x02, 0x13};

static void dpush(ds_ctx *c, uint64_t off, uint32_t par, uint64_t tag, int inpar) {
    if (c->nd == c->capd) {
        uint32_t cap = c->capd ? c->capd * 2 : 4096;
        uint64_t *a = realloc(c->doff, cap * sizeof *a); if (!a) FAIL(c); c->doff = a;
        uint32_t *b = realloc(c->dpar, cap * sizeof *b); if (!b) FAIL(c); c->dpar = b;
        uint64_t *t = realloc(c->dtag, cap * sizeof *t); if (!t) FAIL(c); c->dtag = t;
        uint8_t *e = realloc(c->dinpar, cap); if (!e) FAIL(c); c->dinpar = e;
        c->capd = cap;
    }
    c->doff[c->nd] = off; c->dpar[c->nd] = par; c->dtag[c->nd] = tag; c->dinpar[c->nd] = (uint8_t)inpar;
    c->nd++;
}
static int64_t dfind(ds_ctx *c, uint64_t off) {
    uint32_t lo = 0, hi = c->nd;
    while (lo < hi) { uint32_t m = (lo + hi) / 2; if (c->doff[m] < off) lo = m + 1; else hi = m; }
    return (lo < c->nd && c->doff[lo] == off) ? (int64_t)lo : -1;
}

static uint64_t die_entrypc(ds_ctx *c, unit_t *u, die_t *d, int *has) {
    /* dwarf_entrypc: DW_AT_entry_pc, else DW_AT_low_pc; only address forms */
    attr_t *a = d->a[A_ENTRY_PC].set ? &d->a[A_ENTRY_PC] : d->a[A_LOW_PC].set ? &d->a[A_LOW_PC] : NULL;
    (void)c; (void)u;
    if (a && is_addr_form(a->form)) { *has = 1; return a->val; }
    *has = 0;
    return 0;
}

typedef struct { uint64_t off; uint32_t di; } fpos_t_;

int ds_scan_cu_impl(ds_ctx *c, uint64_t cu_off) {
    unit_t *u = unit_hdr(c, cu_off);
    if (!u) return -2;
    load_top(c, u);
    die_t top;
    read_die(c, u, u->die_off, &top);
    if (top.null) return -3;
    int c_cu = 0;
    uint64_t lang = NONE;
    if (top.a[A_LANGUAGE].set) {
        if (!is_const_form(top.a[A_LANGUAGE].form)) return -4;
        lang = top.a[A_LANGUAGE].val;
        c_cu = lang == 0x1 || lang == 0x2 || lang == 0xc || lang == 0x1d;
    }
    uint64_t name = NONE, prod = NONE, comp = NONE, stmt = NONE;
    if (top.a[A_NAME].set) { if (!is_str_form(top.a[A_NAME].form)) return -4; name = top.a[A_NAME].aux; }
    if (top.a[A_PRODUCER].set) { if (!is_str_form(top.a[A_PRODUCER].form)) return -4; prod = top.a[A_PRODUCER].aux; }
    if (top.a[A_COMP_DIR].set) { if (!is_str_form(top.a[A_COMP_DIR].form)) return -4; comp = top.a[A_COMP_DIR].aux; }
    if (top.a[A_STMT_LIST].set) stmt = top.a[A_STMT_LIST].val;

    /* header: 0 status, 1 name, 2 lang, 3 producer, 4 comp_dir, 5 stmt_list, 6 loclist, 7 nfuncs, 8 ninlines */
    c->nout = 0;
    for (int i = 0; i < 9; i++) push(c, NONE);
    c->out[0] = 0; c->out[1] = name; c->out[2] = lang; c->out[3] = prod; c->out[4] = comp; c->out[5] = stmt;
    int loclist = 0;
    uint64_t nfunc = 0, ninl = 0;

    /* stack of open DIEs: index into the scratch table, walked flag, f_ok, i_ok */
    enum { MAXD = 4096 };
    static __thread uint32_t sidx[MAXD];
    static __thread uint8_t swalk[MAXD], sf[MAXD], si[MAXD];
    int sp = 0;
    c->nd = 0;
    dpush(c, top.off, UINT32_MAX, top.tag, 0);
    uint64_t nf = 0;
    if (!top.children) goto done_walk;
    sidx[0] = 0; swalk[0] = 1; sf[0] = 1; si[0] = 1; sp = 1;
    uint64_t off = top.next;
    die_t d;
    while (sp > 0) {
        if (off >= u->end) break;               /* pyelftools stops at the unit's end too */
        read_die(c, u, off, &d);
        off = d.next;
        if (d.null) { sp--; continue; }
        int pw = swalk[sp - 1];
        uint32_t me = c->nd;
        dpush(c, d.off, sidx[sp - 1], d.tag, pw);
        int walked = 0, fo = 0, io = 0;
        if (pw) {
            uint64_t tag = d.tag;
            if (!loclist && (tag == 0x05 || tag == 0x34) && d.a[A_LOCATION].set && d.a[A_LOCATION].form == F_sec_offset)
                loclist = 1;
            fo = sf[sp - 1] && (!c_cu || in_set(tag, C_FUNC, 3));
            if (fo && tag == 0x2e && !d.a[A_DECLARATION].set) {
                if (nf == c->capf) {
                    uint64_t cap = c->capf ? c->capf * 2 : 256;
                    uint64_t *q = realloc(c->funcs, cap * sizeof *q);
                    if (!q) FAIL(c);
                    c->funcs = q; c->capf = cap;
                }
                c->funcs[nf++] = d.off;
            }
            io = si[sp - 1] && in_set(tag, INLINE, 9);
            if (io && tag == 0x1d && d.a[A_ORIGIN].set) {
                unit_t *tu = u;
                uint64_t t = ref_target(c, u, &d.a[A_ORIGIN], &tu);
                if (t == NONE && !(d.a[A_ORIGIN].form == F_ref_addr
                                   || (d.a[A_ORIGIN].form >= F_ref1 && d.a[A_ORIGIN].form <= F_ref_udata)))
                    FAIL(c);
                if (t != NONE) {
                    int has;
                    uint64_t e = die_entrypc(c, u, &d, &has);
                    if (!has) {
                        e = 0;
                        if (d.a[A_RANGES].set) {
                            if (d.a[A_LOW_PC].set && is_addr_form(d.a[A_LOW_PC].form) && d.a[A_HIGH_PC].set) {
                                e = d.a[A_LOW_PC].val;
                            } else {
                                uint64_t s;
                                if (first_range(c, u, &d.a[A_RANGES], &s)) e = s;
                            }
                        }
                    }
                    push(c, t); push(c, d.off); push(c, e ? e : NONE);
                    ninl++;
                }
            }
            int scope = in_set(d.tag, SCOPE, 12);
            walked = d.children && ((fo && scope) || io);
            fo = fo && scope;
        }
        if (d.children) {
            if (sp >= MAXD) FAIL(c);
            sidx[sp] = me; swalk[sp] = (uint8_t)walked; sf[sp] = (uint8_t)fo; si[sp] = (uint8_t)io; sp++;
        }
    }
done_walk:;
    /* the functions */
    for (uint64_t k = 0; k < nf; k++) {
        uint64_t foff = c->funcs[k];
        uint64_t nm = name_ref(c, u, foff, A_NAME);
        if (nm == NONE) continue;
        read_die(c, u, foff, &d);
        attr_t a; unit_t *ou;
        uint64_t flags = 0, dfile = 0, dline = 0;
        if (integrate(c, u, foff, A_DECL_FILE, &a, &ou)) {
            if (!is_const_form(a.form)) FAIL(c);
            flags |= 1; dfile = a.val;
            if (a.form == F_flag) dfile = dfile != 0;
            if (a.form == F_sdata || a.form == F_implicit_const) flags |= 64;
        }
        if (integrate(c, u, foff, A_DECL_LINE, &a, &ou)) {
            if (!is_const_form(a.form)) FAIL(c);
            flags |= 2; dline = a.val;
            if (a.form == F_flag) dline = dline != 0;
            if (a.form == F_sdata || a.form == F_implicit_const) flags |= 128;
        }
        uint64_t link = name_ref(c, u, foff, A_LINKAGE);
        if (link == NONE) link = name_ref(c, u, foff, A_MIPS_LINKAGE);
        int has;
        uint64_t dw = die_entrypc(c, u, &d, &has);
        if (has) flags |= 4;
        int has_low = d.a[A_LOW_PC].set && is_addr_form(d.a[A_LOW_PC].form);
        uint64_t low = has_low ? d.a[A_LOW_PC].val : 0;
        if (has_low) flags |= 8;
        /* dwflpp::function_entrypc as _function_entrypc computes it */
        uint64_t entry = 0;
        if (has && dw) { entry = dw; flags |= 16; }
        else if (has_low) { }
        else if (d.a[A_RANGES].set) {
            uint64_t base = u->has_low_pc ? u->low_pc : 0;
            if (base) { entry = base; flags |= 16; }
            else { uint64_t s; if (first_range(c, u, &d.a[A_RANGES], &s) && s) { entry = s; flags |= 16; } }
        }
        if (d.a[A_INLINE].set) {
            if (!is_const_form(d.a[A_INLINE].form)) FAIL(c);
            if (d.a[A_INLINE].val != 0) flags |= 32;
        }
        push(c, foff); push(c, flags); push(c, nm); push(c, link); push(c, dfile); push(c, dline);
        push(c, dw); push(c, low); push(c, entry);
        /* C++ scopes */
        uint64_t nsc_pos = c->nout;
        push(c, 0);
        if (!c_cu) {
            uint64_t cur = foff; unit_t *cu_ = u;
            for (int it = 0; it < 64; it++) {
                unit_t *tu = cu_;
                uint64_t spec = spec_integrate(c, cu_, cur, &tu);
                if (spec != NONE) { cur = spec; cu_ = tu; }
                if (cu_ != u) break;
                int64_t i = dfind(c, cur);
                if (i < 0 || !c->dinpar[i]) break;
                int64_t p = c->dpar[i];
                while (p >= 0 && p != UINT32_MAX && !in_set(c->dtag[p], PSCOPE, 3))
                    p = c->dinpar[p] ? (int64_t)c->dpar[p] : -1;
                if (p < 0 || p == UINT32_MAX) break;
                push(c, name_ref(c, u, c->doff[p], A_NAME));
                c->out[nsc_pos]++;
                cur = c->doff[p];
            }
        }
        nfunc++;
    }
    c->out[6] = loclist; c->out[7] = nfunc; c->out[8] = ninl;
    return 0;
}

/* --- the line program --- */
static void skip_form(ds_ctx *c, rd_t *r, uint64_t form, int offsize) {
    switch (form) {
    case F_data1: case F_flag: skip(r, 1); break;
    case F_data2: skip(r, 2); break;
    case F_data4: skip(r, 4); break;
    case F_data8: skip(r, 8); break;
    case F_data16: skip(r, 16); break;
    case F_udata: uleb(r); break;
    case F_sdata: sleb(r); break;
    case F_block: skip(r, uleb(r)); break;
    case F_string: skip_cstr(r); break;
    case F_strp: case F_line_strp: case F_sec_offset: skip(r, offsize); break;
    default: FAIL(c);
    }
}

/* want: bit0 the file table, bit1 the rows.
 * out: [status, version, ndirs, dir refs..., nfiles, (name ref, dir index)..., nrows, rows (addr, file, line, flags)...]
 * rows in program order; flags: 1 prologue_end, 2 end_sequence. */
static void line_impl(ds_ctx *c, uint64_t off, int cu_addr_size, int want) {
    rd_t r = rd(c, S_LINE, off);
    if (!r.p) FAIL(c);
    uint64_t len = uN(&r, 4);
    int offsize = 4;
    if (len == 0xffffffff) { len = uN(&r, 8); offsize = 8; }
    else if (len >= 0xfffffff0) FAIL(c);
    uint64_t end = r.pos + len;
    if (end > r.n || end < r.pos) FAIL(c);
    r.n = end;
    int version = (int)uN(&r, 2);
    if (version < 2 || version > 5) FAIL(c);
    if (version >= 5) { u8(&r); u8(&r); }
    uN(&r, offsize);                              /* header_length: pyelftools reads on from here */
    uint64_t min_inst = u8(&r);
    uint64_t max_ops = version >= 4 ? u8(&r) : 1;
    uint64_t def_stmt = u8(&r); (void)def_stmt;
    int64_t line_base = (int8_t)u8(&r);
    uint64_t line_range = u8(&r);
    uint64_t opbase = u8(&r);
    if (opbase == 0) FAIL(c);
    if (line_range == 0 || max_ops == 0) FAIL(c);
    skip(&r, opbase - 1);
    c->nout = 0;
    push(c, 0); push(c, (uint64_t)version);
    if (version < 5) {
        uint64_t np = c->nout; push(c, 0);
        for (;;) {
            need(&r, 1);
            if (r.p[r.pos] == 0) { r.pos++; break; }
            push(c, REF(S_LINE, r.pos)); skip_cstr(&r); c->out[np]++;
        }
        np = c->nout; push(c, 0);
        for (;;) {
            need(&r, 1);
            if (r.p[r.pos] == 0) { r.pos++; break; }
            push(c, REF(S_LINE, r.pos)); skip_cstr(&r);
            push(c, uleb(&r)); uleb(&r); uleb(&r); c->out[np]++;
        }
    } else {
        for (int pass = 0; pass < 2; pass++) {
            uint64_t nfmt = u8(&r), ct[64], fm[64];
            if (nfmt > 64) FAIL(c);
            for (uint64_t i = 0; i < nfmt; i++) { ct[i] = uleb(&r); fm[i] = uleb(&r); }
            uint64_t cnt = uleb(&r);
            if (cnt == 0 && pass == 0) FAIL(c);       /* pyelftools has no include_directory then */
            uint64_t np = c->nout; push(c, 0);
            for (uint64_t e = 0; e < cnt; e++) {
                uint64_t path = NONE, dir = NONE;
                for (uint64_t i = 0; i < nfmt; i++) {
                    if (ct[i] == 1) {
                        if (fm[i] == F_string) { path = REF(S_LINE, r.pos); skip_cstr(&r); }
                        else if (fm[i] == F_line_strp) path = str_at(c, S_LINE_STR, uN(&r, offsize));
                        else if (fm[i] == F_strp) path = str_at(c, S_STR, uN(&r, offsize));
                        else FAIL(c);
                    } else if (ct[i] == 2 && pass == 1) {
                        if (fm[i] == F_data1) dir = uN(&r, 1);
                        else if (fm[i] == F_data2) dir = uN(&r, 2);
                        else if (fm[i] == F_udata) dir = uleb(&r);
                        else FAIL(c);
                    } else skip_form(c, &r, fm[i], offsize);
                }
                if (path == NONE) FAIL(c);
                push(c, path);
                if (pass == 1) { if (dir == NONE) FAIL(c); push(c, dir); }
                c->out[np]++;
            }
        }
    }
    if (!(want & 2)) return;
    uint64_t nrows_pos = c->nout; push(c, 0);
    c->rows_pos = nrows_pos;
    uint64_t addr = 0, file = 1, opi = 0; int64_t line = 1; int pend = 0;
    while (r.pos < end) {
        uint64_t op = u8(&r);
        if (op >= opbase) {
            uint64_t adj = op - opbase, adv = adj / line_range;
            addr += min_inst * ((opi + adv) / max_ops);
            opi = (opi + adv) % max_ops;
            line += line_base + (int64_t)(adj % line_range);
            push(c, addr); push(c, file); push(c, (uint64_t)line); push(c, (uint64_t)pend);
            c->out[nrows_pos]++; pend = 0;
        } else if (op == 0) {
            uint64_t ilen = uleb(&r);
            uint64_t start = r.pos;
            uint64_t ex = u8(&r);
            if (ex == 1) {
                push(c, addr); push(c, file); push(c, (uint64_t)line); push(c, (uint64_t)(pend | 2));
                c->out[nrows_pos]++;
                addr = 0; file = 1; line = 1; pend = 0; opi = 0;
            } else if (ex == 2) {
                addr = uN(&r, cu_addr_size);
            } else if (ex == 3) {
                FAIL(c);                                   /* define_file: left to pyelftools */
            } else if (ex == 4) {
                uleb(&r);
            } else {
                if (ilen == 0) FAIL(c);
                r.pos = start; skip(&r, ilen);
            }
        } else {
            switch (op) {
            case 1: push(c, addr); push(c, file); push(c, (uint64_t)line); push(c, (uint64_t)pend);
                c->out[nrows_pos]++; pend = 0; break;
            case 2: addr += uleb(&r) * min_inst; break;
            case 3: line += sleb(&r); break;
            case 4: file = uleb(&r); break;
            case 5: uleb(&r); break;
            case 6: case 7: case 11: break;
            case 8: addr += ((255 - opbase) / line_range) * min_inst; break;
            case 9: addr += uN(&r, 2); break;
            case 10: pend = 1; break;
            case 12: uleb(&r); break;
            default: FAIL(c);                              /* pyelftools asserts */
            }
        }
    }
}

typedef struct { uint64_t addr, file, line, flags, seq; } lrow_t;
static int lrow_cmp(const void *a, const void *b) {
    const lrow_t *x = a, *y = b;
    if (x->addr != y->addr) return x->addr < y->addr ? -1 : 1;
    int ex = (x->flags & 2) ? 0 : 1, ey = (y->flags & 2) ? 0 : 1;   /* an end_sequence first */
    if (ex != ey) return ex - ey;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort the rows ds_line left at out[pos+1...] (count at out[pos]) as LineTable does. */
static void sort_rows(ds_ctx *c, uint64_t pos) {
    uint64_t n = c->out[pos];
    if (n < 2) return;
    lrow_t *t = malloc(n * sizeof *t);
    if (!t) FAIL(c);
    uint64_t *q = c->out + pos + 1;
    for (uint64_t i = 0; i < n; i++) {
        t[i].addr = q[4 * i]; t[i].file = q[4 * i + 1]; t[i].line = q[4 * i + 2]; t[i].flags = q[4 * i + 3]; t[i].seq = i;
    }
    qsort(t, n, sizeof *t, lrow_cmp);
    for (uint64_t i = 0; i < n; i++) {
        q[4 * i] = t[i].addr; q[4 * i + 1] = t[i].file; q[4 * i + 2] = t[i].line; q[4 * i + 3] = t[i].flags;
    }
    free(t);
}

/* --- API --- */
ds_ctx *ds_new(int elf_addr_size, int ranges_mode) {
    ds_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->elf_addr_size = elf_addr_size; c->ranges_mode = ranges_mode;
    return c;
}

void ds_set_section(ds_ctx *c, int idx, const uint8_t *p, uint64_t n) {
    if (idx >= 0 && idx < NSEC) { c->p[idx] = n ? p : NULL; c->n[idx] = n; }
}

static void free_units(ds_ctx *c) {
    for (uint32_t i = 0; i < c->nunits; i++) {
        free(c->units[i].abbrevs); free(c->units[i].specs); free(c->units[i].direct);
    }
    free(c->units); c->units = NULL; c->nunits = 0;
}

void ds_free(ds_ctx *c) {
    if (!c) return;
    free_units(c);
    free(c->out); free(c->funcs); free(c->doff); free(c->dpar); free(c->dtag); free(c->dinpar);
    free(c);
}

/* out: per unit (off, end, die_off, version, unit_type, addr_size, offsize, abbrev_off); returns count */
int64_t ds_units(ds_ctx *c) {
    free_units(c);
    c->nout = 0;
    if (setjmp(c->err)) return -1;
    uint32_t cap = 0;
    uint64_t pos = 0, n = c->n[S_INFO];
    while (pos < n) {
        rd_t r = rd(c, S_INFO, pos);
        uint64_t len = uN(&r, 4);
        int offsize = 4;
        if (len == 0xffffffff) { len = uN(&r, 8); offsize = 8; }
        else if (len >= 0xfffffff0) return -1;
        uint64_t end = r.pos + len;
        if (end > n || end < r.pos) return -1;
        int version = (int)uN(&r, 2);
        int ut = 1, as;
        uint64_t abo;
        if (version >= 5) { ut = (int)u8(&r); as = (int)u8(&r); abo = uN(&r, offsize);
            if (ut == 2 || ut == 6) { skip(&r, 8); skip(&r, offsize); }
            else if (ut == 4 || ut == 5) skip(&r, 8);
        } else if (version >= 2) { abo = uN(&r, offsize); as = (int)u8(&r); }
        else return -1;
        if (as != 4 && as != 8 && as != 2) return -1;
        if (c->nunits == cap) {
            cap = cap ? cap * 2 : 64;
            unit_t *q = realloc(c->units, cap * sizeof *q);
            if (!q) return -1;
            c->units = q;
        }
        unit_t *u = &c->units[c->nunits++];
        memset(u, 0, sizeof *u);
        u->off = pos; u->end = end; u->die_off = r.pos; u->abbrev_off = abo;
        u->version = version; u->unit_type = ut; u->addr_size = as; u->offsize = offsize;
        push(c, pos); push(c, end); push(c, r.pos); push(c, (uint64_t)version); push(c, (uint64_t)ut);
        push(c, (uint64_t)as); push(c, (uint64_t)offsize); push(c, abo);
        pos = end;
    }
    return c->nunits;
}

int ds_scan_cu(ds_ctx *c, uint64_t cu_off) {
    if (setjmp(c->err)) { c->nout = 0; return -1; }
    return ds_scan_cu_impl(c, cu_off);
}

int ds_line(ds_ctx *c, uint64_t off, int cu_addr_size, int want) {
    if (setjmp(c->err)) { c->nout = 0; return -1; }
    c->rows_pos = NONE;
    line_impl(c, off, cu_addr_size, want);
    if ((want & 4) && c->rows_pos != NONE) sort_rows(c, c->rows_pos);
    return 0;
}

/* The top DIE: [status, name, lang, producer, comp_dir, stmt_list, low_pc or NONE] */
int ds_top(ds_ctx *c, uint64_t cu_off) {
    if (setjmp(c->err)) { c->nout = 0; return -1; }
    unit_t *u = unit_hdr(c, cu_off);
    if (!u) return -2;
    load_top(c, u);
    die_t top;
    read_die(c, u, u->die_off, &top);
    c->nout = 0;
    push(c, 0);
    int slots[] = {A_NAME, A_LANGUAGE, A_PRODUCER, A_COMP_DIR, A_STMT_LIST};
    for (int i = 0; i < 5; i++) {
        attr_t *a = &top.a[slots[i]];
        if (!a->set) { push(c, NONE); continue; }
        if (slots[i] == A_LANGUAGE || slots[i] == A_STMT_LIST) push(c, a->val);
        else { if (!is_str_form(a->form)) return -4; push(c, a->aux); }
    }
    push(c, u->has_low_pc ? u->low_pc : NONE);
    return 0;
}

/* dies.die_ranges for the DIE at `off`: [status, n, (lo, hi) * n] */
int ds_die_ranges(ds_ctx *c, uint64_t off) {
    if (setjmp(c->err)) { c->nout = 0; return -1; }
    unit_t *u = unit_of(c, off);
    if (!u) return -2;
    die_t d;
    read_die(c, u, off, &d);
    c->nout = 0;
    push(c, 0); push(c, 0);
    attr_t *lo = &d.a[A_LOW_PC], *hi = &d.a[A_HIGH_PC];
    if (lo->set && is_addr_form(lo->form) && hi->set) {
        if (is_addr_form(hi->form)) { push(c, lo->val); push(c, hi->val); }
        else if (is_const_form(hi->form) && hi->form != F_flag && hi->form != F_flag_present) {
            push(c, lo->val); push(c, lo->val + hi->val);
        } else return -4;
        c->out[1] = 1;
        return 0;
    }
    if (!d.a[A_RANGES].set) return 0;
    c->out[1] = collect_ranges(c, u, &d.a[A_RANGES]);
    return 0;
}

uint64_t *ds_out(ds_ctx *c, uint64_t *n) { *n = c->nout; return c->out; }
