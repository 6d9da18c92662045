/*
 * Driver of the network link module. Register map: docs/netlink.md.
 *
 * A command is: write the buffer registers, write CMD, wait while BUSY,
 * read ERR. ERR is cleared by every command and set only when it fails, so
 * an interrupt handler may clear the STATUS flags without disturbing us.
 */
#include "netlink.h"

#define NL_ID 0x4E4C4B31u

/* Register offsets. */
#define NL_ID_R 0x00u
#define NL_CMD 0x04u
#define NL_STATUS 0x08u
#define NL_ERR 0x0Cu
#define NL_INTEN 0x10u
#define NL_CLIENT_ADDR 0x14u
#define NL_CLIENT_LEN 0x18u
#define NL_TOPIC_ADDR 0x1Cu
#define NL_TOPIC_LEN 0x20u
#define NL_PAYLOAD_ADDR 0x24u
#define NL_PAYLOAD_LEN 0x28u
#define NL_QOS 0x2Cu
#define NL_RX_TOPIC_LEN 0x30u
#define NL_RX_PAYLOAD_LEN 0x34u
#define NL_RX_DROPPED 0x40u
#define NL_MS 0x44u
#define NL_MAX_TOPIC 0x48u

/* Longest client id the module accepts (AWS IoT limit). */
#define NL_MAX_CLIENT_ID 128u

/* Commands. */
#define NL_OP_CONNECT 1u
#define NL_OP_DISCONNECT 2u
#define NL_OP_SUBSCRIBE 3u
#define NL_OP_UNSUBSCRIBE 4u
#define NL_OP_PUBLISH 5u
#define NL_OP_RECV 6u
#define NL_OP_RECV_ACK 7u

/* STATUS bits. */
#define NL_BUSY (1u << 0)
#define NL_CONNECTED (1u << 1)
#define NL_RX_READY (1u << 2)
#define NL_STICKY (0xFu << 8)

static struct {
    uintptr_t base;
    net_wait_fn wait;
} net;

static volatile uint32_t *reg(uint32_t offset)
{
    return (volatile uint32_t *)(net.base + offset);
}

static uint32_t rd(uint32_t offset)
{
    return *reg(offset);
}

static void wr(uint32_t offset, uint32_t value)
{
    *reg(offset) = value;
}

static uint32_t address_of(const void *p)
{
    return (uint32_t)(uintptr_t)p;
}

/* Length of a NUL-terminated string, stopping after limit + 1 bytes. */
static uint32_t text_length(const char *s, uint32_t limit)
{
    uint32_t n = 0;

    while (n <= limit && s[n] != '\0') {
        n++;
    }
    return n;
}

static void idle_wait(void)
{
    if (net.wait != 0) {
        net.wait();
    }
}

/* Waits while BUSY, up to timeout_ms of the module's clock. */
static net_status_t wait_idle(uint32_t timeout_ms)
{
    uint32_t start = rd(NL_MS);

    while ((rd(NL_STATUS) & NL_BUSY) != 0u) {
        if (rd(NL_MS) - start >= timeout_ms) {
            return NET_ERR_DEADLINE;
        }
        idle_wait();
    }
    return NET_OK;
}

/* Issues a command whose registers are set, and waits for its outcome. */
static net_status_t run(uint32_t op, uint32_t timeout_ms)
{
    net_status_t st;

    wr(NL_CMD, op);
    st = wait_idle(timeout_ms);
    if (st != NET_OK) {
        return st;
    }
    return (net_status_t)(rd(NL_ERR) & 0xFFu);
}

/* Checks init and waits out a command a timed-out caller left behind. */
static net_status_t ready(void)
{
    if (net.base == 0u) {
        return NET_ERR_NOT_INIT;
    }
    return wait_idle(NET_COMMAND_TIMEOUT_MS);
}

static void set_topic(const char *topic)
{
    uint32_t limit = rd(NL_MAX_TOPIC);

    wr(NL_TOPIC_ADDR, address_of(topic));
    wr(NL_TOPIC_LEN, text_length(topic, limit));
}

net_status_t net_init(uintptr_t base, net_wait_fn wait)
{
    net.base = 0u;
    if (base == 0u || *(volatile uint32_t *)(base + NL_ID_R) != NL_ID) {
        return NET_ERR_NO_DEVICE;
    }
    net.base = base;
    net.wait = wait;
    wr(NL_INTEN, 0u);
    wr(NL_STATUS, NL_STICKY);
    return NET_OK;
}

net_status_t net_connect(const char *client_id, uint32_t timeout_ms)
{
    net_status_t st = ready();

    if (st != NET_OK) {
        return st;
    }
    wr(NL_CLIENT_ADDR, address_of(client_id));
    wr(NL_CLIENT_LEN, text_length(client_id, NL_MAX_CLIENT_ID));
    return run(NL_OP_CONNECT, timeout_ms);
}

net_status_t net_disconnect(void)
{
    net_status_t st = ready();

    if (st != NET_OK) {
        return st;
    }
    return run(NL_OP_DISCONNECT, NET_COMMAND_TIMEOUT_MS);
}

net_status_t net_subscribe(const char *topic_filter, uint8_t qos)
{
    net_status_t st = ready();

    if (st != NET_OK) {
        return st;
    }
    set_topic(topic_filter);
    wr(NL_QOS, qos);
    return run(NL_OP_SUBSCRIBE, NET_COMMAND_TIMEOUT_MS);
}

net_status_t net_unsubscribe(const char *topic_filter)
{
    net_status_t st = ready();

    if (st != NET_OK) {
        return st;
    }
    set_topic(topic_filter);
    return run(NL_OP_UNSUBSCRIBE, NET_COMMAND_TIMEOUT_MS);
}

net_status_t net_publish(const char *topic, const void *payload, size_t len,
                         uint8_t qos)
{
    net_status_t st = ready();

    if (st != NET_OK) {
        return st;
    }
    set_topic(topic);
    wr(NL_PAYLOAD_ADDR, address_of(payload));
    wr(NL_PAYLOAD_LEN, (uint32_t)len);
    wr(NL_QOS, qos);
    return run(NL_OP_PUBLISH, NET_COMMAND_TIMEOUT_MS);
}

/* Copies the head message out; the caller has checked the sizes. */
static net_status_t copy_head(char *topic, uint32_t tlen, void *payload,
                              uint32_t plen)
{
    net_status_t st;

    wr(NL_TOPIC_ADDR, address_of(topic));
    wr(NL_TOPIC_LEN, tlen);
    wr(NL_PAYLOAD_ADDR, address_of(payload));
    wr(NL_PAYLOAD_LEN, plen);
    st = run(NL_OP_RECV, NET_COMMAND_TIMEOUT_MS);
    if (st == NET_OK) {
        topic[tlen] = '\0';
    }
    return st;
}

net_status_t net_receive(char *topic, size_t topic_max, void *payload,
                         size_t payload_max, size_t *topic_len,
                         size_t *payload_len)
{
    net_status_t st = ready();
    uint32_t tlen;
    uint32_t plen;

    if (st != NET_OK) {
        return st;
    }
    if ((rd(NL_STATUS) & NL_RX_READY) == 0u) {
        return NET_ERR_NO_MESSAGE;
    }
    tlen = rd(NL_RX_TOPIC_LEN);
    plen = rd(NL_RX_PAYLOAD_LEN);
    *topic_len = tlen;
    *payload_len = plen;
    st = NET_ERR_TOO_LONG;
    if (tlen < topic_max && plen <= payload_max) {
        st = copy_head(topic, tlen, payload, plen);
    }
    if (st == NET_OK || st == NET_ERR_TOO_LONG) {
        net_status_t ack = run(NL_OP_RECV_ACK, NET_COMMAND_TIMEOUT_MS);
        if (ack != NET_OK) {
            st = ack;
        }
    }
    return st;
}

int net_is_connected(void)
{
    if (net.base == 0u) {
        return 0;
    }
    return (rd(NL_STATUS) & NL_CONNECTED) != 0u;
}

int net_has_message(void)
{
    if (net.base == 0u) {
        return 0;
    }
    return (rd(NL_STATUS) & NL_RX_READY) != 0u;
}

uint32_t net_dropped(void)
{
    return net.base == 0u ? 0u : rd(NL_RX_DROPPED);
}

void net_irq_enable(uint32_t mask)
{
    if (net.base != 0u) {
        wr(NL_INTEN, mask & (NET_IRQ_DONE | NET_IRQ_RX | NET_IRQ_LINK));
    }
}

uint32_t net_irq_flags(void)
{
    uint32_t flags;

    if (net.base == 0u) {
        return 0u;
    }
    flags = rd(NL_STATUS) & NL_STICKY;
    wr(NL_STATUS, flags);
    return flags;
}
