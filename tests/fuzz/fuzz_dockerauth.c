/* Fuzz the Docker/Podman auth-file parser (src/util/dockerauth.h): the input after its first
 * byte is an auth file looked up for one of a few hosts (chosen by that byte: plain, with a port,
 * Docker Hub's names), and also a credential helper's answer. Whatever is found must be
 * consistent with its kind. */
#include "common.h"

#include "imgsync/errors.h"
#include "util/dockerauth.h"

static void check_cred(const imgsync__dcred *c)
{
    switch (c->kind) {
    case IMGSYNC__DCRED_NONE:
        if (c->username || c->secret || c->helper || c->server)
            abort();
        break;
    case IMGSYNC__DCRED_BASIC:
        if (!c->username || !c->secret)
            abort();
        break;
    case IMGSYNC__DCRED_IDENTITY:
        if (!c->secret || !c->secret[0])
            abort();
        break;
    case IMGSYNC__DCRED_HELPER:
        if (!imgsync__dockerauth_helper_name_ok(c->helper) || !c->server)
            abort();
        break;
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const hosts[] = {"reg.example:5000", "registry-1.docker.io", "docker.io", "127.0.0.1:5000",
                                        "quay.io", "", "REG.EXAMPLE:5000", "index.docker.io"};
    if (!size)
        return 0;
    const char *host = hosts[data[0] & 7];
    const char *text = (const char *)data + 1;
    char err[160];
    imgsync__dcred c;
    int rc = imgsync__dockerauth_lookup(&c, text, size - 1, host, err, sizeof(err));
    if (rc != 0 && rc != IMGSYNC_EINVAL)
        abort();
    if (rc == 0)
        check_cred(&c);
    else if (c.kind || c.secret)
        abort();
    imgsync__dcred_clear(&c);
    rc = imgsync__dockerauth_helper_answer(&c, text, size - 1, err, sizeof(err));
    if (rc == 0 && c.kind != IMGSYNC__DCRED_BASIC && c.kind != IMGSYNC__DCRED_IDENTITY)
        abort();
    if (rc == 0)
        check_cred(&c);
    imgsync__dcred_clear(&c);
    return 0;
}
