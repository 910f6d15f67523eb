/* h5_group.c - groups and paths. A group's links come from any of its storages: a symbol table
 * (v1 B-tree of symbol nodes, names in a local heap: superblocks 0/1), link messages in its
 * header (compact), or dense storage (a fractal heap of link messages indexed by a v2 B-tree of
 * name hashes). They are read once into a table sorted by name (duplicates refused), cached in
 * the gc_h5, and looked up by binary search. Only hard links are followed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/h5_priv.h"

typedef struct link_builder {
  gc_h5 *f;
  h5_link *links;
  size_t *name_at; /* offsets into the pool while it grows */
  size_t count, cap;
  char *pool;
  size_t used, pool_cap;
  h5_fheap heap; /* dense storage */
} link_builder;

static gc_status add_link(link_builder *b, const uint8_t *name, size_t len, uint64_t addr, int kind) {
  gc_h5 *f = b->f;
  if (len == 0) return h5_fail(f, GC_ERR_H5, "a link has an empty name");
  if (memchr(name, 0, len)) return h5_fail(f, GC_ERR_H5, "a link name holds a NUL byte");
  if (memchr(name, '/', len) || (len == 1 && name[0] == '.')) /* paths could not reach them */
    return h5_fail(f, GC_ERR_H5, "a link is named '%.*s', which HDF5 does not allow", (int)(len > 64 ? 64 : len),
                   (const char *)name);
  if (b->count == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 16;
    h5_link *l = realloc(b->links, cap * sizeof *l);
    if (l) b->links = l;
    size_t *o = l ? realloc(b->name_at, cap * sizeof *o) : NULL;
    if (!o) return h5_fail(f, GC_ERR_OUT_OF_MEMORY, "out of memory reading the group's links");
    b->name_at = o;
    b->cap = cap;
  }
  if (len + 1 > b->pool_cap - b->used) {
    size_t cap = b->pool_cap ? 2 * b->pool_cap : 1024;
    while (cap - b->used < len + 1) cap *= 2;
    char *p = realloc(b->pool, cap);
    if (!p) return h5_fail(f, GC_ERR_OUT_OF_MEMORY, "out of memory reading the group's links");
    b->pool = p;
    b->pool_cap = cap;
  }
  memcpy(b->pool + b->used, name, len);
  b->pool[b->used + len] = 0;
  b->name_at[b->count] = b->used;
  b->links[b->count].addr = addr;
  b->links[b->count].kind = kind;
  b->count++;
  b->used += len + 1;
  return GC_OK;
}

static gc_status symtab_entry(void *ctx, const char *name, size_t len, uint64_t addr, int kind) {
  return add_link(ctx, (const uint8_t *)name, len, addr, kind);
}

/* a link message (in an object header or, for dense storage, in the fractal heap) */
static gc_status link_message(link_builder *b, const uint8_t *p, size_t n) {
  h5_cur c = h5_cursor(p, n);
  int version = (int)h5_u(&c, 1), flags = (int)h5_u(&c, 1), kind = 0;
  if (!c.bad && version != 1) return h5_fail(b->f, GC_ERR_H5, "link message version %d (1 is read here)", version);
  if (flags & 0x08) kind = (int)h5_u(&c, 1);
  if (flags & 0x04) h5_u(&c, 8); /* creation order */
  if (flags & 0x10) h5_u(&c, 1); /* character set */
  uint64_t len = h5_u(&c, 1 << (flags & 3));
  const uint8_t *name = h5_take(&c, len);
  uint64_t addr = H5_UNDEF;
  if (kind == 0) addr = h5_addr(b->f, &c);
  else h5_take(&c, h5_u(&c, 2)); /* soft, external and user-defined links: a length and a value */
  if (c.bad) return h5_fail(b->f, GC_ERR_H5, "a link message is truncated");
  return add_link(b, name, (size_t)len, addr, kind);
}

static gc_status dense_record(void *ctx, const uint8_t *rec, size_t size) {
  link_builder *b = ctx;
  if (size < 4 + (size_t)b->heap.id_len)
    return h5_fail(b->f, GC_ERR_H5, "the link name index holds records of %zu bytes, too short for a heap ID", size);
  const uint8_t *obj;
  size_t len;
  gc_status s = h5_fheap_get(b->f, &b->heap, rec + 4, &obj, &len);
  return s != GC_OK ? s : link_message(b, obj, len);
}

static int cmp_links(const void *a, const void *b) {
  return strcmp(((const h5_link *)a)->name, ((const h5_link *)b)->name);
}

int h5_is_group(const h5_ohdr *h) {
  return h5_ohdr_find(h, H5M_SYMBOL_TABLE) || h5_ohdr_find(h, H5M_LINK_INFO) || h5_ohdr_find(h, H5M_LINK);
}

static gc_status read_links(gc_h5 *f, const h5_ohdr *h, link_builder *b) {
  gc_status s = GC_OK;
  for (size_t i = 0; i < h->count && s == GC_OK; i++) {
    const h5_msg *m = &h->m[i];
    h5_cur c = h5_cursor(m->p, m->size);
    if (m->type == H5M_SYMBOL_TABLE) {
      uint64_t btree = h5_addr(f, &c), heap = h5_addr(f, &c);
      if (c.bad) return h5_fail(f, GC_ERR_H5, "its symbol table message is truncated");
      s = h5_symtab_walk(f, btree, heap, symtab_entry, b);
    } else if (m->type == H5M_LINK) {
      s = link_message(b, m->p, m->size);
    } else if (m->type == H5M_LINK_INFO) {
      int version = (int)h5_u(&c, 1), flags = (int)h5_u(&c, 1);
      if (flags & 1) h5_u(&c, 8);
      uint64_t heap = h5_addr(f, &c), names = h5_addr(f, &c);
      if (c.bad) return h5_fail(f, GC_ERR_H5, "its link info message is truncated");
      if (version != 0) return h5_fail(f, GC_ERR_H5, "link info message version %d (0 is read)", version);
      if (heap == H5_UNDEF) continue; /* compact storage: the links are messages */
      if ((s = h5_fheap_open(f, heap, &b->heap)) == GC_OK) s = h5_btree2_walk(f, names, 5, dense_record, b);
    }
  }
  return s;
}

/* the sorted links of the group whose header is h (cached; valid until the next call) */
static gc_status group_links(gc_h5 *f, const h5_ohdr *h, const h5_group **out) {
  h5_group *slot = &f->groups[0];
  for (int i = 0; i < H5_GROUP_CACHE; i++) {
    if (f->groups[i].addr == h->addr) {
      f->groups[i].last_use = ++f->clock;
      *out = &f->groups[i];
      return GC_OK;
    }
    if (f->groups[i].last_use < slot->last_use) slot = &f->groups[i];
  }
  if (!h5_is_group(h)) return h5_fail(f, GC_ERR_H5, "is not a group");
  link_builder b = {f, NULL, NULL, 0, 0, NULL, 0, 0, {0}};
  gc_status s = read_links(f, h, &b);
  if (s == GC_OK) {
    for (size_t i = 0; i < b.count; i++) b.links[i].name = b.pool + b.name_at[i];
    if (b.count) qsort(b.links, b.count, sizeof *b.links, cmp_links);
    for (size_t i = 1; i < b.count && s == GC_OK; i++)
      if (!strcmp(b.links[i - 1].name, b.links[i].name))
        s = h5_fail(f, GC_ERR_H5, "has two links named '%.64s'", b.links[i].name);
  }
  free(b.name_at);
  if (s != GC_OK) {
    free(b.links);
    free(b.pool);
    return s;
  }
  free(slot->links);
  free(slot->pool);
  slot->addr = h->addr;
  slot->links = b.links;
  slot->count = b.count;
  slot->pool = b.pool;
  slot->last_use = ++f->clock;
  *out = slot;
  return GC_OK;
}

static const h5_link *find_link(const h5_group *g, const char *name, size_t len) {
  size_t lo = 0, hi = g->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const char *m = g->links[mid].name;
    int c = strncmp(m, name, len);
    if (c == 0 && m[len]) c = 1; /* m is longer: it sorts after */
    if (c == 0) return &g->links[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

/* 1: *out is the object at `path`; 0: a link on the way is missing (or leads through a
 * non-group); a negative gc_status: the file is damaged on the way */
static int resolve(gc_h5 *f, uint64_t from, const char *path, uint64_t *out) {
  const char *base = path[0] == '/' ? "/" : h5_path_of(f, from);
  uint64_t cur = path[0] == '/' ? f->root : from;
  char *full = NULL;
  size_t flen = 0;
  if (base) { /* the path of each object passed, for the messages */
    full = malloc(strlen(base) + strlen(path) + 2);
    if (full) flen = (size_t)snprintf(full, strlen(base) + 2, "%s", strcmp(base, "/") ? base : "");
  }
  int r = 1;
  for (const char *p = path; *p;) {
    if (*p == '/') {
      p++;
      continue;
    }
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == 1 && p[0] == '.') {
      p += len;
      continue;
    }
    h5_ohdr h;
    gc_status s = h5_ohdr_read(f, cur, &h);
    const h5_group *g = NULL;
    if (s == GC_OK && h5_is_group(&h)) s = group_links(f, &h, &g);
    h5_ohdr_free(&h);
    const h5_link *l = g ? find_link(g, p, len) : NULL;
    if (s != GC_OK) r = -(int)s;
    else if (!l) r = 0;
    else if (l->kind != 0)
      r = -(int)h5_fail(f, GC_ERR_H5, "'%.*s' is a %s link, not followed here", (int)(len > 64 ? 64 : len), p,
                        l->kind == 1 ? "soft" : l->kind == 64 ? "external" : "user-defined");
    if (r != 1) break;
    cur = l->addr;
    if (full) {
      flen += (size_t)sprintf(full + flen, "%s%.*s", flen ? "/" : "", (int)len, p);
      h5_remember(f, cur, full);
    }
    if (full) snprintf(f->label, sizeof f->label, "'%s'", full);
    else snprintf(f->label, sizeof f->label, "object at 0x%llx", (unsigned long long)cur);
    p += len;
  }
  free(full);
  if (r == 1) *out = cur;
  return r;
}

gc_status gc_h5_open_path(gc_h5 *f, gc_h5_obj from, const char *path, gc_h5_obj *out, char *err, size_t errlen) {
  if (!f || !path || !out) return GC_ERR_INVALID_ARGUMENT;
  h5_enter(f, from, err, errlen, NULL);
  int r = resolve(f, from.addr, path, &out->addr);
  if (r == 1) return GC_OK;
  if (r < 0) return (gc_status)-r;
  h5_enter(f, from, err, errlen, NULL); /* the message names where the path started */
  return h5_fail(f, GC_ERR_H5, "no object '%.128s'", path);
}

int gc_h5_exists(gc_h5 *f, gc_h5_obj from, const char *path, char *err, size_t errlen) {
  if (!f || !path) return -(int)GC_ERR_INVALID_ARGUMENT;
  h5_enter(f, from, err, errlen, NULL);
  uint64_t addr;
  return resolve(f, from.addr, path, &addr);
}

gc_status gc_h5_kind_of(gc_h5 *f, gc_h5_obj obj, gc_h5_kind *kind, char *err, size_t errlen) {
  if (!f || !kind) return GC_ERR_INVALID_ARGUMENT;
  h5_ohdr h;
  gc_status s = h5_enter(f, obj, err, errlen, &h);
  if (s != GC_OK) return s;
  *kind = h5_ohdr_find(&h, H5M_LAYOUT) ? GC_H5_DATASET : h5_is_group(&h) ? GC_H5_GROUP : GC_H5_OTHER;
  h5_ohdr_free(&h);
  return GC_OK;
}

/* ---- string lists ------------------------------------------------------------------------ */

gc_status h5_strings_push(gc_h5 *f, gc_h5_strings *s, const char *p, size_t len) {
  if ((s->count & (s->count + 1)) == 0 || !s->items) { /* capacity: 1, 3, 7, 15, ... */
    char **items = realloc(s->items, (2 * s->count + 1) * sizeof *items);
    if (!items) return h5_fail(f, GC_ERR_OUT_OF_MEMORY, "out of memory");
    s->items = items;
  }
  char *copy = malloc(len + 1);
  if (!copy) return h5_fail(f, GC_ERR_OUT_OF_MEMORY, "out of memory");
  memcpy(copy, p, len);
  copy[len] = 0;
  s->items[s->count++] = copy;
  return GC_OK;
}

void gc_h5_strings_free(gc_h5_strings *s) {
  if (!s) return;
  for (size_t i = 0; i < s->count; i++) free(s->items[i]);
  free(s->items);
  s->items = NULL;
  s->count = 0;
}

gc_status h5_enter_list(gc_h5 *f, gc_h5_obj obj, gc_h5_strings *out, char *err, size_t errlen, h5_ohdr *h) {
  if (!f || !out) return GC_ERR_INVALID_ARGUMENT;
  out->items = NULL;
  out->count = 0;
  return h5_enter(f, obj, err, errlen, h);
}

gc_status gc_h5_children(gc_h5 *f, gc_h5_obj group, gc_h5_strings *out, char *err, size_t errlen) {
  h5_ohdr h;
  gc_status s = h5_enter_list(f, group, out, err, errlen, &h);
  if (s != GC_OK) return s;
  const h5_group *g;
  s = group_links(f, &h, &g);
  h5_ohdr_free(&h);
  for (size_t i = 0; s == GC_OK && i < g->count; i++) s = h5_strings_push(f, out, g->links[i].name, strlen(g->links[i].name));
  if (s != GC_OK) gc_h5_strings_free(out);
  return s;
}
