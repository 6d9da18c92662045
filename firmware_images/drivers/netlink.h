/*
 * Driver of the network link module ("netlink", docs/netlink.md): an MQTT
 * client that runs in the module, driven through registers.
 *
 * Every call blocks until the module has finished the command, polling its
 * STATUS register. Between polls the driver calls the wait hook given to
 * net_init: an RTOS application passes a function that sleeps for a tick
 * (vTaskDelay(1)); with no hook the driver spins. Time limits are measured
 * with the module's own millisecond counter, so they hold with either.
 *
 * net_receive never blocks: it returns NET_ERR_NO_MESSAGE when nothing is
 * queued. The driver keeps one module's state and is not reentrant: call it
 * from one task only.
 */
#ifndef NETLINK_H
#define NETLINK_H

#include <stddef.h>
#include <stdint.h>

/* Outcomes. Values 1..12 are the module's ERR codes. */
typedef enum {
    NET_OK = 0,
    NET_ERR_NO_NETWORK = 1,     /* no network attached to the module */
    NET_ERR_REFUSED = 2,        /* the broker or the server said no */
    NET_ERR_TIMEOUT = 3,        /* the broker did not answer in time */
    NET_ERR_UNREACHABLE = 4,    /* no route to the broker */
    NET_ERR_NOT_CONNECTED = 5,  /* the command needs a connection */
    NET_ERR_REJECTED = 6,       /* invalid topic or filter, SUBACK failure */
    NET_ERR_TOO_LONG = 7,       /* text or payload over the limits */
    NET_ERR_BAD_ARGUMENT = 8,   /* empty text, bad QoS, not UTF-8 */
    NET_ERR_BAD_ADDRESS = 9,    /* a buffer outside the module's reach */
    NET_ERR_BAD_COMMAND = 10,   /* the module does not know the command */
    NET_ERR_NO_MESSAGE = 11,    /* nothing received */
    NET_ERR_LINK_LOST = 12,     /* the connection went down */
    NET_ERR_NO_DEVICE = 100,    /* no module at the base address */
    NET_ERR_NOT_INIT = 101,     /* net_init has not succeeded */
    NET_ERR_DEADLINE = 102      /* the module stayed busy past the limit */
} net_status_t;

/* Interrupt causes for net_irq_enable (the INTEN bits). */
#define NET_IRQ_DONE (1u << 0)
#define NET_IRQ_RX (1u << 1)
#define NET_IRQ_LINK (1u << 2)

/* Time limit of every command but CONNECT, in milliseconds. */
#define NET_COMMAND_TIMEOUT_MS 10000u

typedef void (*net_wait_fn)(void);

/*
 * Binds the driver to the module at base, masks its interrupts and clears
 * its flags. wait may be NULL (spin). Returns NET_ERR_NO_DEVICE when the
 * identification register does not match.
 */
net_status_t net_init(uintptr_t base, net_wait_fn wait);

/* Connects with a NUL-terminated client id, waiting up to timeout_ms. */
net_status_t net_connect(const char *client_id, uint32_t timeout_ms);

/* Closes the connection; harmless when not connected. */
net_status_t net_disconnect(void);

/* Subscribes to a topic filter (wildcards allowed) at QoS 0 or 1. */
net_status_t net_subscribe(const char *topic_filter, uint8_t qos);

net_status_t net_unsubscribe(const char *topic_filter);

/* Publishes len bytes of payload (len may be 0) to a topic name. */
net_status_t net_publish(const char *topic, const void *payload, size_t len,
                         uint8_t qos);

/*
 * Takes the oldest received message. The topic is stored NUL-terminated, so
 * topic_max counts the terminator. When a buffer is too small the message
 * is dropped, *topic_len and *payload_len give its real sizes and
 * NET_ERR_TOO_LONG is returned. NET_ERR_NO_MESSAGE when nothing waits.
 */
net_status_t net_receive(char *topic, size_t topic_max, void *payload,
                         size_t payload_max, size_t *topic_len,
                         size_t *payload_len);

/* 1 while the module reports the connection up, else 0. */
int net_is_connected(void);

/* 1 when a received message waits, else 0. */
int net_has_message(void);

/* Messages the module dropped because its queue was full. */
uint32_t net_dropped(void);

/* Enables the NET_IRQ_* causes in mask (0 disables all). */
void net_irq_enable(uint32_t mask);

/*
 * For an interrupt handler: returns the STATUS flags DONE, ERROR,
 * RX_OVERFLOW and LINK_LOST that were set, and clears them.
 */
uint32_t net_irq_flags(void);

#endif
