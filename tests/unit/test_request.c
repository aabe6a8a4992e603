/* Unit tests of sync requests: the builder API and the selection rules (src/core/request.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/request.h"
#include "imgsync.h"

/* The selection of a provider whose kind has one type, and of a row of the OCI type. */
static int selects_provider1(const imgsync_request *r, const char *name, int type)
{
    return imgsync__request_selects_provider(r, name, &type, 1);
}

__attribute__((unused)) static int selects_row1(const imgsync_request *r, const char *tag, const char *artifact_type)
{
    return imgsync__request_selects_row(r, IMGSYNC_TYPE_OCI, tag, artifact_type);
}

Suite *request_suite(void);

static imgsync_request *new_req(void)
{
    imgsync_request *r = NULL;
    ck_assert_int_eq(imgsync_request_new(&r), 0);
    ck_assert_ptr_nonnull(r);
    return r;
}

START_TEST(test_new_and_empty)
{
    ck_assert_int_eq(imgsync_request_new(NULL), IMGSYNC_EINVAL);
    imgsync_request *r = new_req();
    ck_assert_uint_eq(r->ntypes, 0);
    ck_assert_uint_eq(r->nproviders, 0);
    ck_assert_uint_eq(r->nrepos, 0);
    ck_assert_uint_eq(r->nfilters, 0);
    ck_assert_uint_eq(r->max_tags, 0);
    ck_assert_int_eq(r->include_non_images, 0);
    /* an empty request selects everything */
    ck_assert_int_eq(selects_provider1(r, "any", IMGSYNC_TYPE_HARBOR), 1);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "any", "team", "team/app"), 1);
    ck_assert_int_eq(imgsync__request_selects_namespace(r, ""), 1);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "latest"), 1);
    ck_assert_uint_eq(imgsync__request_repo_count(r, "any"), 0);
    ck_assert_ptr_null(imgsync__request_repo_at(r, "any", 0));
    imgsync_request_free(r);
    imgsync_request_free(NULL);
    /* so does no request at all */
    ck_assert_int_eq(selects_provider1(NULL, "any", IMGSYNC_TYPE_OCI), 1);
    ck_assert_int_eq(imgsync__request_selects_repository(NULL, "any", "", "a"), 1);
    ck_assert_int_eq(imgsync__request_selects_tag(NULL, "v1"), 1);
    ck_assert_int_eq(imgsync__request_selects_namespace(NULL, "x"), 1);
}
END_TEST

START_TEST(test_types_union)
{
    imgsync_request *r = new_req();
    ck_assert_int_eq(imgsync_request_add_type(r, IMGSYNC_TYPE_OCI), 0);
    ck_assert_int_eq(selects_provider1(r, "p", IMGSYNC_TYPE_OCI), 1);
    ck_assert_int_eq(selects_provider1(r, "p", IMGSYNC_TYPE_HARBOR), 0);
    ck_assert_int_eq(imgsync_request_add_type(r, IMGSYNC_TYPE_HARBOR), 0);
    ck_assert_int_eq(imgsync_request_add_type(r, IMGSYNC_TYPE_OCI), 0); /* repeat: no duplicate */
    ck_assert_uint_eq(r->ntypes, 2);
    ck_assert_int_eq(selects_provider1(r, "p", IMGSYNC_TYPE_OCI), 1);
    ck_assert_int_eq(selects_provider1(r, "p", IMGSYNC_TYPE_HARBOR), 1);
    ck_assert_int_eq(selects_provider1(r, "p", IMGSYNC_TYPE_JFROG), 0);
    ck_assert_int_eq(selects_provider1(r, "p", IMGSYNC_TYPE_SWR_PRIVATE), 0);
    /* unknown types are refused and change nothing */
    ck_assert_int_eq(imgsync_request_add_type(r, 0), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_type(r, 7), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_type(r, -1), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_type(NULL, IMGSYNC_TYPE_OCI), IMGSYNC_EINVAL);
    ck_assert_uint_eq(r->ntypes, 2);
    imgsync_request_free(r);
}
END_TEST

START_TEST(test_providers_union)
{
    imgsync_request *r = new_req();
    ck_assert_int_eq(imgsync_request_add_provider(r, "p1"), 0);
    ck_assert_int_eq(selects_provider1(r, "p1", IMGSYNC_TYPE_OCI), 1);
    ck_assert_int_eq(selects_provider1(r, "p2", IMGSYNC_TYPE_OCI), 0);
    ck_assert_int_eq(imgsync_request_add_provider(r, "p2"), 0);
    ck_assert_int_eq(imgsync_request_add_provider(r, "p1"), 0);
    ck_assert_uint_eq(r->nproviders, 2);
    ck_assert_int_eq(selects_provider1(r, "p1", IMGSYNC_TYPE_OCI), 1);
    ck_assert_int_eq(selects_provider1(r, "p2", IMGSYNC_TYPE_HARBOR), 1);
    ck_assert_int_eq(selects_provider1(r, "p3", IMGSYNC_TYPE_OCI), 0);
    ck_assert_int_eq(selects_provider1(r, "P1", IMGSYNC_TYPE_OCI), 0); /* names are exact */
    ck_assert_int_eq(imgsync_request_add_provider(r, ""), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_provider(r, NULL), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_provider(NULL, "p"), IMGSYNC_EINVAL);
    ck_assert_uint_eq(r->nproviders, 2);
    /* both restrictions apply: a named provider must also be of a listed type */
    ck_assert_int_eq(imgsync_request_add_type(r, IMGSYNC_TYPE_OCI), 0);
    ck_assert_int_eq(selects_provider1(r, "p1", IMGSYNC_TYPE_OCI), 1);
    ck_assert_int_eq(selects_provider1(r, "p2", IMGSYNC_TYPE_HARBOR), 0);
    ck_assert_int_eq(selects_provider1(r, "p3", IMGSYNC_TYPE_OCI), 0);
    imgsync_request_free(r);
}
END_TEST

START_TEST(test_add_repository)
{
    imgsync_request *r = new_req();
    ck_assert_int_eq(imgsync_request_add_repository(r, "reg", "team/app"), 0);
    /* implies add_provider("reg") */
    ck_assert_uint_eq(r->nproviders, 1);
    ck_assert_str_eq(r->providers[0], "reg");
    ck_assert_int_eq(selects_provider1(r, "reg", IMGSYNC_TYPE_OCI), 1);
    ck_assert_int_eq(selects_provider1(r, "other", IMGSYNC_TYPE_OCI), 0);
    ck_assert_int_eq(imgsync_request_add_repository(r, "reg", "org/team/app"), 0);
    ck_assert_int_eq(imgsync_request_add_repository(r, "reg", "team/app"), 0); /* repeat */
    ck_assert_int_eq(imgsync_request_add_repository(r, "reg2", "a"), 0);
    ck_assert_uint_eq(r->nproviders, 2);
    ck_assert_uint_eq(r->nrepos, 3);
    ck_assert_uint_eq(imgsync__request_repo_count(r, "reg"), 2);
    ck_assert_str_eq(imgsync__request_repo_at(r, "reg", 0), "team/app");
    ck_assert_str_eq(imgsync__request_repo_at(r, "reg", 1), "org/team/app");
    ck_assert_ptr_null(imgsync__request_repo_at(r, "reg", 2));
    ck_assert_uint_eq(imgsync__request_repo_count(r, "reg2"), 1);
    ck_assert_str_eq(imgsync__request_repo_at(r, "reg2", 0), "a");
    ck_assert_uint_eq(imgsync__request_repo_count(r, "reg3"), 0);
    /* the list restricts its own provider only */
    ck_assert_int_eq(imgsync__request_selects_repository(r, "reg", "team", "team/app"), 1);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "reg", "org", "org/team/app"), 1);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "reg", "team", "team/other"), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "reg", "team", "team/app/sub"), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "reg", "", "a"), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "reg2", "", "a"), 1);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "reg2", "team", "team/app"), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "reg3", "x", "x/anything"), 1);
    imgsync_request_free(r);
}
END_TEST

START_TEST(test_add_repository_invalid)
{
    static const char *bad[] = {"", "/a", "a/", "a//b", "a b", "a\tb", "a\nb", "a\x7f", "/"};
    imgsync_request *r = new_req();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(imgsync_request_add_repository(r, "reg", bad[i]) == IMGSYNC_EINVAL, "'%s' accepted", bad[i]);
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ck_assert_int_eq(imgsync_request_add_repository(r, "reg", longname), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_repository(r, "reg", NULL), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_repository(r, "", "a"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_repository(r, NULL, "a"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_repository(NULL, "reg", "a"), IMGSYNC_EINVAL);
    /* a refused repository does not restrict the request to its provider either */
    ck_assert_uint_eq(r->nrepos, 0);
    ck_assert_uint_eq(r->nproviders, 0);
    ck_assert_int_eq(selects_provider1(r, "other", IMGSYNC_TYPE_OCI), 1);
    imgsync_request_free(r);
}
END_TEST

START_TEST(test_filter_include_exclude)
{
    imgsync_request *r = new_req();
    /* include on tags only: repositories unaffected */
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, "v*", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "v1"), 1);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "v1.2.3"), 1);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "latest"), 0);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "V1"), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "team", "team/app"), 1);
    ck_assert_int_eq(imgsync__request_selects_namespace(r, "team"), 1);
    /* a second include of the same field: union */
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, "latest", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "latest"), 1);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "v1"), 1);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "stable"), 0);
    /* an exclude wins over the includes */
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, "*-rc*", IMGSYNC_EXCLUDE), 0);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "v2-rc1"), 0);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "v2"), 1);
    ck_assert_uint_eq(r->nfilters, 3);
    imgsync_request_free(r);

    /* exclude only: everything but the excluded */
    r = new_req();
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_REPOSITORY, "tmp/**", IMGSYNC_EXCLUDE), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "tmp", "tmp/a"), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "tmp", "tmp/a/b"), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "team", "team/app"), 1);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "", "tmp"), 1); /* the pattern needs a slash */
    ck_assert_int_eq(imgsync__request_selects_tag(r, "anything"), 1);
    imgsync_request_free(r);
}
END_TEST

START_TEST(test_filter_fields)
{
    imgsync_request *r = new_req();
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_REPOSITORY, "team/*", IMGSYNC_INCLUDE), 0);
    /* '*' stops at '/', '**' does not */
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "team", "team/app"), 1);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "team", "team/app/sub"), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "org", "org/team/app"), 0);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_REPOSITORY, "org/**", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "org", "org/team/app"), 1);
    /* namespace filters combine with repository filters (both must select) */
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_NAMESPACE, "org", IMGSYNC_EXCLUDE), 0);
    ck_assert_int_eq(imgsync__request_selects_namespace(r, "org"), 0);
    ck_assert_int_eq(imgsync__request_selects_namespace(r, "team"), 1);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "org", "org/team/app"), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "team", "team/app"), 1);
    /* the namespace checked is the one given, not recomputed from the path */
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "team", "org/x"), 1);
    /* tag filters do not touch repositories and vice versa */
    ck_assert_int_eq(imgsync__request_selects_tag(r, "org"), 1);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, "{v1,v2}", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "v2"), 1);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "v3"), 0);
    ck_assert_int_eq(imgsync__request_selects_repository(r, "p", "team", "team/app"), 1);
    imgsync_request_free(r);
}
END_TEST

START_TEST(test_filter_invalid)
{
    static const char *bad[] = {"[a-", "v{1,2", "abc\\", "[", "{"};
    imgsync_request *r = new_req();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, bad[i], IMGSYNC_INCLUDE) == IMGSYNC_EINVAL,
                      "pattern '%s' accepted", bad[i]);
    char longpat[1100];
    memset(longpat, 'a', sizeof(longpat) - 1);
    longpat[sizeof(longpat) - 1] = '\0';
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, longpat, IMGSYNC_INCLUDE), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, NULL, IMGSYNC_INCLUDE), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_filter(r, 0, "a", IMGSYNC_INCLUDE), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_filter(r, 4, "a", IMGSYNC_INCLUDE), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, "a", 0), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, "a", 3), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_request_add_filter(NULL, IMGSYNC_FILTER_TAG, "a", IMGSYNC_INCLUDE), IMGSYNC_EINVAL);
    /* nothing was added: the request still selects every tag */
    ck_assert_uint_eq(r->nfilters, 0);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "anything"), 1);
    /* well-formed edge cases are accepted: a literal '}' and ',' outside braces, escapes */
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, "a}b,c", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, "\\*", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "a}b,c"), 1);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "*"), 1);
    ck_assert_int_eq(imgsync__request_selects_tag(r, "x"), 0);
    imgsync_request_free(r);
}
END_TEST

START_TEST(test_max_tags)
{
    imgsync_request *r = new_req();
    ck_assert_int_eq(imgsync_request_set_max_tags(r, 5), 0);
    ck_assert_uint_eq(r->max_tags, 5);
    ck_assert_int_eq(imgsync_request_set_max_tags(r, 0), 0);
    ck_assert_uint_eq(r->max_tags, 0);
    ck_assert_int_eq(imgsync_request_set_max_tags(NULL, 1), IMGSYNC_EINVAL);
    imgsync_request_free(r);
}
END_TEST

static void assert_same_request(const imgsync_request *a, const imgsync_request *b)
{
    ck_assert_uint_eq(a->ntypes, b->ntypes);
    for (size_t i = 0; i < a->ntypes; i++)
        ck_assert_int_eq(a->types[i], b->types[i]);
    ck_assert_uint_eq(a->nproviders, b->nproviders);
    for (size_t i = 0; i < a->nproviders; i++) {
        ck_assert_str_eq(a->providers[i], b->providers[i]);
        ck_assert_ptr_ne(a->providers[i], b->providers[i]);
    }
    ck_assert_uint_eq(a->nrepos, b->nrepos);
    for (size_t i = 0; i < a->nrepos; i++) {
        ck_assert_str_eq(a->repos[i].provider, b->repos[i].provider);
        ck_assert_str_eq(a->repos[i].repository, b->repos[i].repository);
        ck_assert_ptr_ne(a->repos[i].repository, b->repos[i].repository);
    }
    ck_assert_uint_eq(a->nfilters, b->nfilters);
    for (size_t i = 0; i < a->nfilters; i++) {
        ck_assert_int_eq(a->filters[i].field, b->filters[i].field);
        ck_assert_int_eq(a->filters[i].mode, b->filters[i].mode);
        ck_assert_str_eq(a->filters[i].pattern, b->filters[i].pattern);
        ck_assert_ptr_ne(a->filters[i].pattern, b->filters[i].pattern);
    }
    ck_assert_uint_eq(a->max_tags, b->max_tags);
    ck_assert_int_eq(a->include_non_images, b->include_non_images);
}

START_TEST(test_clone)
{
    imgsync_request *r = new_req();
    ck_assert_int_eq(imgsync_request_add_type(r, IMGSYNC_TYPE_HARBOR), 0);
    ck_assert_int_eq(imgsync_request_add_type(r, IMGSYNC_TYPE_OCI), 0);
    ck_assert_int_eq(imgsync_request_add_provider(r, "zeta"), 0);
    ck_assert_int_eq(imgsync_request_add_repository(r, "reg", "team/app"), 0);
    ck_assert_int_eq(imgsync_request_add_repository(r, "reg", "a"), 0);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, "v*", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_REPOSITORY, "tmp/**", IMGSYNC_EXCLUDE), 0);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_NAMESPACE, "{a,b}", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync_request_set_max_tags(r, 3), 0);
    ck_assert_int_eq(imgsync_request_set_include_non_images(r, 7), 0);
    ck_assert_int_eq(r->include_non_images, 1);

    imgsync_request *c = NULL;
    ck_assert_int_eq(imgsync__request_clone(&c, r), 0);
    assert_same_request(r, c);
    /* same selections */
    ck_assert_int_eq(selects_provider1(c, "reg", IMGSYNC_TYPE_OCI), 1);
    ck_assert_int_eq(selects_provider1(c, "zeta", IMGSYNC_TYPE_JFROG), 0);
    ck_assert_int_eq(imgsync__request_selects_tag(c, "v1"), 1);
    ck_assert_int_eq(imgsync__request_selects_tag(c, "latest"), 0);
    /* independent of the original */
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, "latest", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync__request_selects_tag(c, "latest"), 0);
    imgsync_request_free(r);
    ck_assert_str_eq(c->repos[0].repository, "team/app");
    ck_assert_str_eq(c->filters[0].pattern, "v*");

    /* a clone of a clone is equal too; a clone of NULL is empty */
    imgsync_request *cc = NULL;
    ck_assert_int_eq(imgsync__request_clone(&cc, c), 0);
    assert_same_request(c, cc);
    imgsync_request_free(cc);
    imgsync_request_free(c);
    imgsync_request *e = NULL, *empty = new_req();
    ck_assert_int_eq(imgsync__request_clone(&e, NULL), 0);
    ck_assert_ptr_nonnull(e);
    assert_same_request(empty, e);
    imgsync_request_free(e);
    imgsync_request_free(empty);
}
END_TEST

START_TEST(test_include_non_images)
{
    imgsync_request *r = new_req();
    ck_assert_int_eq(imgsync_request_set_include_non_images(r, 1), 0);
    ck_assert_int_eq(r->include_non_images, 1);
    ck_assert_int_eq(imgsync_request_set_include_non_images(r, 0), 0);
    ck_assert_int_eq(r->include_non_images, 0);
    ck_assert_int_eq(imgsync_request_set_include_non_images(NULL, 1), IMGSYNC_EINVAL);
    imgsync_request_free(r);
}
END_TEST

START_TEST(test_namespace_literals)
{
    const char **names = NULL;
    imgsync_request *r = new_req();
    ck_assert_uint_eq(imgsync__request_namespace_literals(r, &names), 0);
    ck_assert_ptr_null(names);
    ck_assert_uint_eq(imgsync__request_namespace_literals(NULL, &names), 0);
    /* excludes and other fields are no hint */
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_NAMESPACE, "tmp", IMGSYNC_EXCLUDE), 0);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_REPOSITORY, "team/app", IMGSYNC_INCLUDE), 0);
    ck_assert_uint_eq(imgsync__request_namespace_literals(r, &names), 0);
    ck_assert_ptr_null(names);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_NAMESPACE, "team", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_NAMESPACE, "org", IMGSYNC_INCLUDE), 0);
    size_t n = imgsync__request_namespace_literals(r, &names);
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_nonnull(names);
    ck_assert_str_eq(names[0], "team");
    ck_assert_str_eq(names[1], "org");
    free(names);
    /* one pattern among the includes: no hint at all (the provider must list everything) */
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_NAMESPACE, "lib*", IMGSYNC_INCLUDE), 0);
    names = NULL;
    ck_assert_uint_eq(imgsync__request_namespace_literals(r, &names), 0);
    ck_assert_ptr_null(names);
    imgsync_request_free(r);
    /* an escaped character is not literal either */
    r = new_req();
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_NAMESPACE, "a\\*", IMGSYNC_INCLUDE), 0);
    ck_assert_uint_eq(imgsync__request_namespace_literals(r, &names), 0);
    imgsync_request_free(r);
}
END_TEST

START_TEST(test_namespace_of)
{
    static const struct {
        const char *repo, *ns;
    } cases[] = {
        {"team/app", "team"}, {"org/team/app", "org"}, {"library/nginx", "library"},
        {"a", ""},            {"", ""},                {"x/", "x"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *ns = imgsync__namespace_of(cases[i].repo);
        ck_assert_ptr_nonnull(ns);
        ck_assert_msg(!strcmp(ns, cases[i].ns), "namespace_of(%s) = '%s', want '%s'", cases[i].repo, ns,
                      cases[i].ns);
        free(ns);
    }
}
END_TEST

/* The JSON form a schedule keeps: every part survives the round trip; anything else is EINVAL. */
START_TEST(test_json_round_trip)
{
    imgsync_request *r = NULL, *back = NULL;
    ck_assert_int_eq(imgsync_request_new(&r), 0);
    ck_assert_int_eq(imgsync_request_add_type(r, IMGSYNC_TYPE_HARBOR), 0);
    ck_assert_int_eq(imgsync_request_add_repository(r, "prod", "team/\"app\""), 0);
    ck_assert_int_eq(imgsync_request_add_provider(r, "st\xc3\xa5ging"), 0);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, "*-rc*", IMGSYNC_EXCLUDE), 0);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_NAMESPACE, "{a,b}", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync_request_set_max_tags(r, 5), 0);
    ck_assert_int_eq(imgsync_request_set_include_non_images(r, 1), 0);
    ck_assert_int_eq(imgsync_request_set_updated_since(r, 1700000000000LL), 0);
    ck_assert_int_eq(imgsync_request_set_updated_since(r, -1), IMGSYNC_EINVAL);
    char *json = imgsync__request_to_json(r);
    ck_assert_ptr_nonnull(json);
    ck_assert_int_eq(imgsync__request_from_json(&back, json), 0);
    ck_assert_int_eq(back->ntypes, 1);
    ck_assert_int_eq(back->types[0], IMGSYNC_TYPE_HARBOR);
    ck_assert_uint_eq(back->nproviders, 2);
    ck_assert_str_eq(back->providers[1], "st\xc3\xa5ging");
    ck_assert_uint_eq(back->nrepos, 1);
    ck_assert_str_eq(back->repos[0].repository, "team/\"app\"");
    ck_assert_uint_eq(back->nfilters, 2);
    ck_assert_int_eq(back->filters[0].field, IMGSYNC_FILTER_TAG);
    ck_assert_int_eq(back->filters[0].mode, IMGSYNC_EXCLUDE);
    ck_assert_str_eq(back->filters[1].pattern, "{a,b}");
    ck_assert_uint_eq(back->max_tags, 5);
    ck_assert_int_eq(back->include_non_images, 1);
    ck_assert_int_eq(back->updated_since, 1700000000000LL);
    char *again = imgsync__request_to_json(back);
    ck_assert_str_eq(again, json);
    free(again);
    free(json);
    imgsync_request_free(back);
    imgsync_request_free(r);
    json = imgsync__request_to_json(NULL);
    ck_assert_str_eq(json, "{\"types\":[],\"providers\":[],\"repositories\":[],\"filters\":[],"
                           "\"include_non_images\":false,\"max_tags\":0,\"updated_since\":0}");
    free(json);
}
END_TEST

START_TEST(test_json_rejects)
{
    static const char *bad[] = {
        "", "[]", "{\"types\":[\"Nope\"]}", "{\"types\":[1]}", "{\"providers\":[\"\"]}",
        "{\"filters\":[{\"field\":\"digest\",\"mode\":\"include\",\"pattern\":\"*\"}]}",
        "{\"filters\":[{\"field\":\"tag\",\"mode\":\"maybe\",\"pattern\":\"*\"}]}",
        "{\"filters\":[{\"field\":\"tag\",\"mode\":\"include\",\"pattern\":\"[\"}]}",
        "{\"repositories\":[{\"registry\":\"p\"}]}", "{\"max_tags\":-1}", "{\"max_tags\":\"3\"}",
        "{\"include_non_images\":1}", "{\"updated_since\":-5}", "{\"types\":[\"Oci\"]", NULL,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        imgsync_request *r = (imgsync_request *)&r; /* must be left alone on failure */
        ck_assert_msg(imgsync__request_from_json(&r, bad[i]) == IMGSYNC_EINVAL, "accepted: %s", bad[i] ? bad[i] : "NULL");
        ck_assert_ptr_eq(r, (imgsync_request *)&r);
    }
}
END_TEST

Suite *request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("request");
    tcase_add_test(tc, test_new_and_empty);
    tcase_add_test(tc, test_types_union);
    tcase_add_test(tc, test_providers_union);
    tcase_add_test(tc, test_add_repository);
    tcase_add_test(tc, test_add_repository_invalid);
    tcase_add_test(tc, test_filter_include_exclude);
    tcase_add_test(tc, test_filter_fields);
    tcase_add_test(tc, test_filter_invalid);
    tcase_add_test(tc, test_max_tags);
    tcase_add_test(tc, test_clone);
    tcase_add_test(tc, test_include_non_images);
    tcase_add_test(tc, test_namespace_literals);
    tcase_add_test(tc, test_namespace_of);
    tcase_add_test(tc, test_json_round_trip);
    tcase_add_test(tc, test_json_rejects);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(request_suite)
