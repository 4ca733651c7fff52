// fd.h: gort_fd's layout and the helpers net.c shares with fd.c (fd.c has
// the overview).
#ifndef GORT_NETPOLL_FD_H
#define GORT_NETPOLL_FD_H

#include "netpoll/netpoll.h"
#include "rt.h"

// On the gort heap; a finalizer closes it. Fields are [const] after
// rt_fd_new unless tagged.
struct gort_fd {
    int sysfd;              // the descriptor; closed at the last reference after close
    bool is_sock;           // writes use send(MSG_NOSIGNAL)
    _Atomic uint32_t state; // [atomic] FD_CLOSED bit | operations in flight
    uint32_t rsema;         // [atomic] rt_semacquire's word: 1 while no reader is inside
                            // (readers one at a time); set to 1 by rt_fd_new
    uint32_t wsema;         // [atomic] the same for writers
    PollDesc *pd;           // poll descriptor; NULL: not pollable (a regular file);
                            // [owner] the last reference: cleared at destroy
    char *unlink_path;      // "unix" listener: the socket file removed at close
};

// Wraps fd (nonblock_set: it is already O_NONBLOCK). NULL with errno set.
gort_fd *rt_fd_new(int fd, bool nonblock_set);
// Takes a reference and the read (or write) side, as an operation does:
// false with errno ECANCELED when f is closed.
bool rt_fd_acquire(gort_fd *f, bool read);
void rt_fd_release(gort_fd *f, bool read);
// Only a reference (no side): false with errno ECANCELED when f is closed.
bool rt_fd_ref(gort_fd *f);
void rt_fd_unref(gort_fd *f);
// Sets the calling goroutine's errno through a call the compiler cannot
// fold (see fd.c); read it back with gort_errno().
void rt_errno_set(int e);

#endif // GORT_NETPOLL_FD_H
