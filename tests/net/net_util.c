/* Shared set-up of the transport tests (net_util.h). */
#include "net/net_util.h"

void nt_on_frame(void *user, const hv_net_frame *f, int *verdict)
{
    nt_rx *r = user;
    if (r->full) {
        *verdict = HV_EFULL;
        return;
    }
    hv_frame fr;
    assert_int_equal(hv_frame_parse(f->frame, f->len, NULL, &fr), (int)f->len);
    unsigned k = (unsigned)(f->sender_id % NT_SENDERS_MAX);
    if (fr.seq <= r->last_seq[k])
        r->duplicates++;
    if (fr.seq != r->last_seq[k] + 1)
        r->bad_order++;
    r->last_seq[k] = fr.seq;
    if (f->early) {
        r->early++;
        r->early_last = fr.seq;
    }
    r->per_sender[k]++;
    r->count++;
    r->peer_id = f->peer->id;
    r->peer_role = f->peer->role;
    r->has_vote_key = f->peer->has_vote_key;
}

void nt_on_peer(void *user, const hv_net_peer *p, int ev, int err)
{
    nt_rx *r = user;
    (void)p;
    (void)err;
    r->joined += ev == HV_NET_PEER_JOINED;
    r->lost += ev == HV_NET_PEER_LOST;
    r->refused += ev == HV_NET_PEER_REFUSED;
    r->reset += ev == HV_NET_PEER_RESET;
}

void nt_make_certs(char *dir, size_t cap, const char *tag)
{
    snprintf(dir, cap, "/tmp/hv_net_test_%s_%d", tag, (int)getpid());
    const char *err;
    assert_int_equal(hv_net_certs_init(dir, &err), 0);
    assert_int_equal(hv_net_certs_issue(dir, "hub", HV_WIRE_ROLE_COORDINATOR, 1, &err), 0);
    assert_int_equal(
        hv_net_certs_issue(dir, "agent", HV_WIRE_ROLE_PATTERN_MATCHER, NT_AGENT_ID, &err), 0);
}

void nt_rm_certs(const char *dir)
{
    static const char *const files[] = { "ca.pem",   "ca.key",    "hub.pem",   "hub.key",
                                         "hub.vote", "agent.pem", "agent.key", "agent.vote" };
    char p[512];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

void nt_opts(hv_net_opts *o, const char *dir, const char *who, nt_rx *r)
{
    /* hv_net reads the files when it starts; the paths outlive it in a small rotation. */
    static char paths[12][300];
    static unsigned k;
    char *ca = paths[k++ % 12], *crt = paths[k++ % 12], *key = paths[k++ % 12];
    snprintf(ca, 300, "%s/ca.pem", dir);
    snprintf(crt, 300, "%s/%s.pem", dir, who);
    snprintf(key, 300, "%s/%s.key", dir, who);
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->ca_file = ca;
    o->cert_file = crt;
    o->key_file = key;
    o->on_frame = nt_on_frame;
    o->on_peer = nt_on_peer;
    o->user = r;
}

size_t nt_frame(uint8_t *buf, size_t cap, uint64_t sender, uint64_t seq, const char *topic,
                size_t data_len)
{
    static uint8_t data[300000];
    hv_msg m = { .type = HV_MSG_PUBLISH };
    m.publish.data = (hv_bytes){ data, (uint32_t)data_len };
    hv_frame f = { .seq = seq, .sender_id = sender, .topic = hv_str_from(topic) };
    int n = hv_frame_encode(buf, cap, &f, &m, NULL);
    assert_true(n > 0);
    return (size_t)n;
}
