/*
 * Intrusive, circular, doubly linked lists with a sentinel node.
 *
 * A node belongs to at most one list at a time and remembers which. Lists
 * are either plain FIFOs (append) or ordered by a key: ordered insertion
 * compares keys as distances from an origin, so a list of wake-up ticks
 * stays ordered across the wrap of the tick counter as long as every key
 * lies less than 2^31 ticks after the origin.
 */
#ifndef KLIST_H
#define KLIST_H

#include "FreeRTOS.h"

struct klist;

struct knode {
    struct knode *next;
    struct knode *prev;
    struct klist *list;
    TickType_t key;
    void *owner;
};

struct klist {
    struct knode end;
    UBaseType_t count;
};

void klist_init(struct klist *l);
void knode_init(struct knode *n, void *owner);
void klist_append(struct klist *l, struct knode *n);
void klist_prepend(struct klist *l, struct knode *n);

/* Inserts after every node whose key is not further from origin. */
void klist_insert_ordered(struct klist *l, struct knode *n,
                          TickType_t origin);

/* Unlinks n from its list; does nothing if n is in none. */
void klist_remove(struct knode *n);

static inline int klist_empty(const struct klist *l)
{
    return l->count == 0;
}

/* The owner of the first node, or NULL for an empty list. */
static inline void *klist_head(const struct klist *l)
{
    return l->count != 0 ? l->end.next->owner : NULL;
}

#endif
