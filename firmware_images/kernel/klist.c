/*
 * Intrusive lists used by the scheduler, queues and timers. Callers hold
 * a critical section (or are the only user of the list).
 */
#include "klist.h"

void klist_init(struct klist *l)
{
    l->end.next = &l->end;
    l->end.prev = &l->end;
    l->end.list = l;
    l->end.owner = NULL;
    l->count = 0;
}

void knode_init(struct knode *n, void *owner)
{
    n->next = NULL;
    n->prev = NULL;
    n->list = NULL;
    n->key = 0;
    n->owner = owner;
}

static void link_before(struct klist *l, struct knode *at, struct knode *n)
{
    configASSERT(n->list == NULL);
    n->next = at;
    n->prev = at->prev;
    at->prev->next = n;
    at->prev = n;
    n->list = l;
    l->count++;
}

void klist_append(struct klist *l, struct knode *n)
{
    link_before(l, &l->end, n);
}

void klist_prepend(struct klist *l, struct knode *n)
{
    link_before(l, l->end.next, n);
}

void klist_insert_ordered(struct klist *l, struct knode *n,
                          TickType_t origin)
{
    TickType_t distance = n->key - origin;
    struct knode *at = l->end.next;

    while (at != &l->end && (TickType_t)(at->key - origin) <= distance) {
        at = at->next;
    }
    link_before(l, at, n);
}

void klist_remove(struct knode *n)
{
    struct klist *l = n->list;

    if (l == NULL) {
        return;
    }
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = NULL;
    n->prev = NULL;
    n->list = NULL;
    l->count--;
}
