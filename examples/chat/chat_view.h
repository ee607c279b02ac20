/* chat_view: what one worker knows of the room's members, to decide who may
 * receive a line that comes over the bus.
 *
 * The problem: X says a line and leaves; the line travels on the bus, the
 * leave through the store. J joins on another worker after the leave (its
 * snapshot, numbered S, no longer has X) and the line arrives after J's
 * Joined: J must not get a line from somebody it never saw in the room.
 *
 * A line from X (joined with number x) is for member m (snapshot S_m) iff m
 * knows X: X joined after m (x > S_m: m got X's MemberJoined first), or X
 * was in m's snapshot, i.e. X had not left by S_m. The view records, per
 * nickname, the join number and the number of the leave (0: present),
 * learned from the room's events and from every snapshot this worker's
 * joins receive (a member the view has but a snapshot at S lacks left at
 * S or before). chat_view_line_limit turns that into one number T per
 * line: m gets it iff S_m < T. Departed entries are kept for the last
 * VIEW_DEPARTED leaves only; a line from one forgotten goes to those who
 * joined before its sender (x > S_m). Not thread-safe: one per worker. */
#ifndef CHAT_VIEW_H
#define CHAT_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "chat_store.h"

typedef struct chat_view chat_view;

/* Returns an empty view, or NULL when out of memory. */
chat_view *chat_view_new(void);

void chat_view_free(chat_view *v);

/* nick (len bytes) joined with number seq. false when out of memory. */
bool chat_view_entered(chat_view *v, const char *nick, uint32_t len,
                       uint64_t seq);

/* nick left (or was swept) with number seq. */
void chat_view_left(chat_view *v, const char *nick, uint32_t len, uint64_t seq);

/* A join's snapshot: the n members at number seq (chat_store_join_cb). */
void chat_view_snapshot(chat_view *v, uint64_t seq,
                        const chat_store_member *all, uint32_t n);

/* For a line from nick, who joined with number since: the members whose
 * snapshot number is below the result receive it. */
uint64_t chat_view_line_limit(const chat_view *v, const char *nick,
                              uint32_t len, uint64_t since);

#endif /* CHAT_VIEW_H */
