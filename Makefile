# libimgsync - plain GNU make build. See README.md.
#   make            library (shared + static), pkg-config file, imgsync CLI
#   make check      unit + integration tests (installs missing Debian packages first, as root)
#   make demo       sync a local real registry and print the inventory and task status
#   make install    PREFIX=/usr/local DESTDIR=  (copies what `make` built for that PREFIX)
#   make abi-check  compare build/libimgsync.so.1 with the ABI baseline abi/libimgsync.so.1.abi
#   make deps       install build/test dependencies from Debian packages (root), or print the line

VERSION_MAJOR := 0
VERSION_MINOR := 1
VERSION_PATCH := 0
VERSION       := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
# ABI version (SONAME) is separate from the product version.
ABI_MAJOR     := 1
ABI_MINOR     := 0
ABI_PATCH     := 0
SONAME        := libimgsync.so.$(ABI_MAJOR)
SHLIB         := libimgsync.so.$(ABI_MAJOR).$(ABI_MINOR).$(ABI_PATCH)

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
CMAKEDIR   ?= $(LIBDIR)/cmake/libimgsync

CC       ?= cc
PKG_CONFIG ?= pkg-config
DEPS_PC  := libcurl yajl sqlite3
# DWARF 4: valgrind 3.19 cannot read the DWARF 5 that gcc 12 and clang 14 emit by default
OPTFLAGS ?= -O2 -g -gdwarf-4
WARNFLAGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
WERROR   ?= -Werror
CFLAGS   ?=
SANITIZE ?=
ALL_CFLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DIMGSYNC_BUILDING_LIBRARY $(OPTFLAGS) $(WARNFLAGS) $(WERROR) \
             $(SANITIZE) -fPIC -fvisibility=hidden -Iinclude -Isrc \
             $(shell $(PKG_CONFIG) --cflags $(DEPS_PC) 2>/dev/null) $(CFLAGS)
DEP_LIBS  = $(shell $(PKG_CONFIG) --libs $(DEPS_PC) 2>/dev/null) -lcrypto -lpthread
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

PUBLIC_HEADERS := $(sort $(wildcard include/imgsync/*.h))
SYS_HEADERS := $(sort $(wildcard include/imgsync/sys/*.h))
LIB_SRC  := $(sort $(wildcard src/util/*.c src/engine/*.c src/inventory/*.c src/core/*.c src/providers/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=build/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
INTEG_SRC := $(sort $(wildcard tests/integration/test_*.c))
INTEG_BIN := $(INTEG_SRC:tests/integration/%.c=build/tests/%)
TEST_HELPER_SRC := $(sort $(wildcard tests/support/*.c))
TEST_HELPER_OBJ := $(TEST_HELPER_SRC:%.c=build/%.o)
# the imgsync program (src/cli): not part of the library, linked to it like any other program
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
CLI_OBJ  := $(CLI_SRC:%.c=build/%.o)
CLI_CFLAGS = $(filter-out -DIMGSYNC_BUILDING_LIBRARY -fvisibility=hidden,$(ALL_CFLAGS))

# keep intermediate objects (test support files): no trailing 'rm' after the test summary
.SECONDARY:

.PHONY: all lib installable man abi-check abi-baseline check unit integration demo deps deps-check install uninstall clean asan tsan valgrind valgrind-unit bench bench-registries bench-million bench-million-callgrind
# examples/uv_sync.c needs libuv (Debian libuv1-dev): built when pkg-config finds it
HAVE_LIBUV := $(shell $(PKG_CONFIG) --exists libuv 2>/dev/null && echo 1)
EXAMPLES := build/minimal $(if $(HAVE_LIBUV),build/uv_sync)
all: lib build/imgsync $(EXAMPLES) installable

lib: build/$(SHLIB) build/libimgsync.a build/libimgsync.pc

# The compiler and flags the objects in build/ were made with: when they change (a sanitized
# `make asan`, then a plain `make bench`), every object is made again instead of being mixed.
FLAGS_STAMP := build/.flags
FLAGS_NOW = $(CC) $(ALL_CFLAGS)
$(FLAGS_STAMP): FORCE
	@mkdir -p build
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' >$@
.PHONY: FORCE
FORCE:

build/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(CLI_OBJ): build/src/cli/%.o: src/cli/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -MMD -MP -c $< -o $@

-include $(LIB_OBJ:.o=.d) $(TEST_HELPER_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# test support files include each other as "support/x.h"
$(TEST_HELPER_OBJ): ALL_CFLAGS += -Itests

build/$(SHLIB): $(LIB_OBJ) src/libimgsync.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/libimgsync.map -Wl,--no-undefined \
	  $(SANITIZE) -o $@ $(LIB_OBJ) $(DEP_LIBS)
	ln -sf $(SHLIB) build/$(SONAME)
	ln -sf $(SONAME) build/libimgsync.so

build/libimgsync.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

# The installation directories the files below were made for: `make install` checks them, so
# that it only copies (it never compiles or links, e.g. as root) and never installs files made
# for another PREFIX.
DIRS_STAMP := build/.dirs
DIRS_NOW = $(PREFIX) $(LIBDIR) $(INCLUDEDIR) $(BINDIR)
$(DIRS_STAMP): FORCE
	@mkdir -p build
	@echo '$(DIRS_NOW)' | cmp -s - $@ || echo '$(DIRS_NOW)' >$@

SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
            -e 's|@VERSION@|$(VERSION)|g' -e 's|@SHLIB@|$(SHLIB)|g' -e 's|@SONAME@|$(SONAME)|g' \
            -e 's|@VERSION_MAJOR@|$(VERSION_MAJOR)|g' -e 's|@SIZEOF_VOID_P@|$(SIZEOF_VOID_P)|g'
SIZEOF_VOID_P := $(shell echo __SIZEOF_POINTER__ | $(CC) -E -P - 2>/dev/null)

build/libimgsync.pc: pkgconfig/libimgsync.pc.in Makefile $(DIRS_STAMP)
	@mkdir -p build
	$(SUBST) $< > $@

build/cmake/%.cmake: cmake/%.cmake.in Makefile $(DIRS_STAMP)
	@mkdir -p build/cmake
	$(SUBST) $< > $@

# man pages: imgsync.1 as written, the library's pages with their reference generated from the
# headers (every IMGSYNC_EXTERN declaration and the comment above it)
MAN_PAGES := build/man/imgsync.1 build/man/libimgsync.3 build/man/libimgsync-provider.3
build/man/imgsync.1: doc/imgsync.1
	@mkdir -p build/man
	cp $< $@
build/man/libimgsync.3: doc/libimgsync.3.in doc/man-api.py $(PUBLIC_HEADERS)
	@mkdir -p build/man
	python3 doc/man-api.py $< $(PUBLIC_HEADERS) > $@
build/man/libimgsync-provider.3: doc/libimgsync-provider.3.in doc/man-api.py $(SYS_HEADERS)
	@mkdir -p build/man
	python3 doc/man-api.py $< $(SYS_HEADERS) > $@
man: $(MAN_PAGES)

# The imgsync program as installed: found by the dynamic linker in a system library directory,
# so no RUNPATH there; an rpath to LIBDIR only for other prefixes (/usr/local, /opt/...).
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
SYSTEM_LIBDIRS := /lib /lib64 /usr/lib /usr/lib64 $(if $(MULTIARCH),/lib/$(MULTIARCH) /usr/lib/$(MULTIARCH))
INSTALLED_RPATH = $(if $(filter $(patsubst %/,%,$(LIBDIR)),$(SYSTEM_LIBDIRS)),,-Wl,-rpath,$(LIBDIR))
build/imgsync-installed: $(CLI_OBJ) build/$(SHLIB) $(DIRS_STAMP)
	$(CC) $(CLI_CFLAGS) -o $@ $(CLI_OBJ) -Lbuild -limgsync $(INSTALLED_RPATH) $(DEP_LIBS)

CMAKE_FILES := build/cmake/libimgsyncConfig.cmake build/cmake/libimgsyncConfigVersion.cmake
installable: build/imgsync-installed build/libimgsync.pc $(CMAKE_FILES) $(MAN_PAGES)

build/imgsync: $(CLI_OBJ) build/$(SHLIB)
	$(CC) $(CLI_CFLAGS) -o $@ $(CLI_OBJ) -Lbuild -limgsync -Wl,-rpath,'$$ORIGIN' $(DEP_LIBS)

build/minimal: examples/minimal.c build/$(SHLIB)
	$(CC) $(ALL_CFLAGS) -fvisibility=default -o $@ $< -Lbuild -limgsync -Wl,-rpath,'$$ORIGIN'

build/uv_sync: examples/uv_sync.c build/$(SHLIB)
	$(CC) $(ALL_CFLAGS) -fvisibility=default $(shell $(PKG_CONFIG) --cflags libuv) -o $@ $< -Lbuild -limgsync \
	  -Wl,-rpath,'$$ORIGIN' $(shell $(PKG_CONFIG) --libs libuv)

build/tests/%: tests/unit/%.c build/libimgsync.a $(TEST_HELPER_OBJ)
	@mkdir -p build/tests
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(TEST_EXTRA_OBJ) $(TEST_HELPER_OBJ) build/libimgsync.a $(CHECK_LIBS) $(DEP_LIBS)

# test_reference tests a file of the imgsync program (the image reference parser)
build/tests/test_reference: build/src/cli/reference.o
build/tests/test_reference: private TEST_EXTRA_OBJ := build/src/cli/reference.o

build/tests/%: tests/integration/%.c build/libimgsync.a $(TEST_HELPER_OBJ)
	@mkdir -p build/tests
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(TEST_HELPER_OBJ) build/libimgsync.a $(CHECK_LIBS) $(DEP_LIBS)

# test_engine_retry fails the backoff heap's allocation on purpose: its realloc is wrapped
build/tests/test_engine_retry: private ALL_CFLAGS += -Wl,--wrap=realloc
# test_json fails the tree builder's allocations one by one: its malloc and realloc are wrapped
build/tests/test_json: private ALL_CFLAGS += -Wl,--wrap=malloc -Wl,--wrap=realloc
# test_engine_auth looks for secrets in what the library frees: its free is wrapped
build/tests/test_engine_auth: private ALL_CFLAGS += -Wl,--wrap=free

# Dependencies: Debian package names. `make deps` installs what is missing when run as root.
DEB_PACKAGES := build-essential libcurl4-openssl-dev libyajl-dev check libsqlite3-dev libssl-dev \
                pkg-config docker-registry python3 python3-pytest apache2-utils clang libclang-rt-14-dev valgrind \
                tzdata zlib1g-dev groff-base mandoc zsh cmake abigail-tools libuv1-dev \
                openssl
deps:
	@sh tests/tools/deps.sh $(DEB_PACKAGES)

deps-check:
	@sh tests/tools/deps.sh --if-missing $(DEB_PACKAGES)

# Every batch adds its counts to build/test-summary; the last line is the total over all test
# programs (each program is one Check suite with many checks).
check: deps-check
	@mkdir -p build && rm -f build/test-summary
	@TEST_SUMMARY=$(CURDIR)/build/test-summary $(MAKE) --no-print-directory unit integration
	@awk '{p += $$1; f += $$2} END {printf "all test programs: %d passed, %d failed\n", p, f; exit f > 0}' build/test-summary

unit: $(UNIT_BIN)
	@sh tests/tools/run-tests.sh $(UNIT_BIN)
	@sh tests/tools/layers-check.sh

# a python3 that has pytest (Debian's python3-pytest is for /usr/bin/python3, which a pyenv or
# venv python3 earlier in PATH may not see)
PYTEST_PYTHON ?= $(firstword $(foreach p,python3 /usr/bin/python3,$(shell $(p) -c 'import pytest' 2>/dev/null && echo $(p))) python3)

# the imgsync program's default database (--db) goes to build/, not to the caller's home
integration: export XDG_DATA_HOME := $(CURDIR)/build/test-data
# ... and its default configuration is looked for there too, not in the caller's home
integration: export XDG_CONFIG_HOME := $(CURDIR)/build/test-config
# the benchmarks are built (not run) with the tests, so that internal changes cannot break them unseen
BENCH_BIN := build/bench_sync build/bench_million build/bench_registries
integration: $(INTEG_BIN) build/$(SHLIB) build/imgsync $(EXAMPLES) $(BENCH_BIN) $(MAN_PAGES)
	@rm -rf build/test-data
	@sh tests/tools/run-tests.sh $(INTEG_BIN)
	@python3 tests/emulators/test_harbor_emulator.py >build/harbor-emulator-test.log 2>&1 || \
	  { cat build/harbor-emulator-test.log; echo "FAILED: Harbor emulator self-test" >&2; exit 1; }
	@tail -n 3 build/harbor-emulator-test.log
	@[ -z "$$TEST_SUMMARY" ] || echo "1 0" >>"$$TEST_SUMMARY"
	@python3 tests/emulators/test_swr_emulator.py >build/swr-emulator-test.log 2>&1 || \
	  { cat build/swr-emulator-test.log; echo "FAILED: SWR emulator self-test" >&2; exit 1; }
	@tail -n 3 build/swr-emulator-test.log
	@[ -z "$$TEST_SUMMARY" ] || echo "1 0" >>"$$TEST_SUMMARY"
	@python3 tests/emulators/test_swr_ee_emulator.py >build/swr-ee-emulator-test.log 2>&1 || \
	  { cat build/swr-ee-emulator-test.log; echo "FAILED: SWR EE emulator self-test" >&2; exit 1; }
	@tail -n 3 build/swr-ee-emulator-test.log
	@[ -z "$$TEST_SUMMARY" ] || echo "1 0" >>"$$TEST_SUMMARY"
	@python3 tests/emulators/test_jfrog_emulator.py >build/jfrog-emulator-test.log 2>&1 || \
	  { cat build/jfrog-emulator-test.log; echo "FAILED: JFrog emulator self-test" >&2; exit 1; }
	@tail -n 3 build/jfrog-emulator-test.log
	@[ -z "$$TEST_SUMMARY" ] || echo "1 0" >>"$$TEST_SUMMARY"
	@# the Python binding (bindings/python): header check + pytest against a real registry; a
	@# sanitized library cannot be loaded by python3, like the packaging check below
	@[ -n "$(SANITIZE)" ] || { IMGSYNC_LIBRARY=$(CURDIR)/build/$(SONAME) PYTHONDONTWRITEBYTECODE=1 \
	  $(PYTEST_PYTHON) -m pytest -q -p no:cacheprovider bindings/python/tests >build/python-binding-test.log 2>&1 || \
	  { cat build/python-binding-test.log; echo "FAILED: Python binding tests" >&2; exit 1; }; \
	  tail -n 1 build/python-binding-test.log; [ -z "$$TEST_SUMMARY" ] || echo "1 0" >>"$$TEST_SUMMARY"; }
	@sh tests/tools/cli-check.sh
	@sh tests/tools/cli-secrets-check.sh
	@sh tests/tools/cli-authfile-check.sh
	@sh tests/tools/cli-history-check.sh
	@sh tests/tools/cli-oneshot-check.sh
	@sh tests/tools/cli-log-check.sh
	@sh tests/tools/cli-review-check.sh
	@sh tests/tools/crash-check.sh
	@sh tests/tools/uv-sync-check.sh
	@SANITIZE="$(SANITIZE)" sh tests/tools/readme-check.sh
	@sh tests/tools/man-check.sh
	@sh tests/tools/completion-check.sh
	@ABI_DEP_LIBS="$(if $(SANITIZE),,$(DEP_LIBS))" sh tests/tools/abi-check.sh --self-test
	@# a sanitized library cannot be loaded by a plain program: the packaging check needs a normal build
	@[ -n "$(SANITIZE)" ] || sh tests/tools/install-check.sh

demo: deps-check
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh

asan:
	$(MAKE) clean
	$(MAKE) SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer" OPTFLAGS="-O1 -g -gdwarf-4" unit integration

# ThreadSanitizer (clang) over the unit suites: test_threads reads the inventory and task status
# from a second thread while syncs run. Any report fails the run (halt_on_error, exit code 66).
tsan:
	$(MAKE) clean
	$(MAKE) CC=clang SANITIZE="-fsanitize=thread" OPTFLAGS="-O1 -g -gdwarf-4" $(UNIT_BIN)
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66 $$TSAN_OPTIONS" sh tests/tools/run-tests.sh $(UNIT_BIN)

VALGRIND_CMD := valgrind --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite,indirect -q

valgrind: $(UNIT_BIN) $(INTEG_BIN) build/imgsync $(EXAMPLES)
	@CK_FORK=no VALGRIND="$(VALGRIND_CMD)" sh tests/tools/run-tests.sh $(UNIT_BIN) $(INTEG_BIN)

# the unit suites alone under valgrind (what CI runs: the integration suites run under ASan there)
valgrind-unit: $(UNIT_BIN)
	@CK_FORK=no VALGRIND="$(VALGRIND_CMD)" sh tests/tools/run-tests.sh $(UNIT_BIN)

build/bench_sync: bench/bench_sync.c build/libimgsync.a
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -o $@ $< build/libimgsync.a $(DEP_LIBS)

bench: build/bench_sync build/bench_million
	@sh bench/run.sh
	@build/bench_million $(BENCH_IMAGES)

# CPU of one sync against many registries on the scripted transport (no network): the cost per
# registry must stay flat from 1,000 to 10,000 registries
build/bench_registries: bench/bench_registries.c build/libimgsync.a build/tests/support/fake_transport.o build/tests/support/fake_clock.o
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< build/tests/support/fake_transport.o build/tests/support/fake_clock.o \
	    build/libimgsync.a $(DEP_LIBS)

bench-registries: build/bench_registries
	@build/bench_registries 1000 10000

# 1,000,000 images (BENCH_IMAGES=N for fewer) from a synthetic provider kind on the scripted
# transport into a SQLite file: images/s, library CPU per image, peak RSS, an unchanged re-sync
# (0 added/updated/removed) and the rows read back with the iterator (see bench/bench_million.c)
build/bench_million: bench/bench_million.c build/libimgsync.a build/tests/support/fake_transport.o build/tests/support/fake_clock.o
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< build/tests/support/fake_transport.o build/tests/support/fake_clock.o \
	    build/libimgsync.a $(DEP_LIBS)

bench-million: build/bench_million
	@build/bench_million $(BENCH_IMAGES)

# the same under callgrind (BENCH_IMAGES, default 100,000): top 15 functions of each phase
bench-million-callgrind: build/bench_million
	@sh bench/million_callgrind.sh

# The ABI gate: abi/libimgsync.so.1.abi is the abidw dump of the released ABI (no release was
# tagged: it is the library of main when the gate was added). abi-check fails on any change but
# added symbols, and on added symbols CHANGELOG.md's Unreleased "### ABI" notes do not name.
ABI_BASELINE := abi/$(SONAME).abi
abi-check: build/$(SHLIB)
	@sh tests/tools/abi-check.sh $(ABI_BASELINE) build/$(SHLIB) include CHANGELOG.md

# a new baseline, on purpose only (a release, or an intended change abidiff reports)
abi-baseline: build/$(SHLIB)
	abidw --no-corpus-path --no-comp-dir-path --short-locs --headers-dir include --drop-private-types \
	    --type-id-style hash --out-file $(ABI_BASELINE) build/$(SHLIB)

# libFuzzer harnesses (make fuzz): see tests/fuzz/fuzz.mk
-include tests/fuzz/fuzz.mk

# What `make install` creates, parents first; `make uninstall` removes those it finds empty.
INSTALL_DIRS := $(LIBDIR) $(PKGCONFIGDIR) $(CMAKEDIR) $(INCLUDEDIR) $(INCLUDEDIR)/imgsync \
                $(INCLUDEDIR)/imgsync/sys $(BINDIR) $(MANDIR) $(MANDIR)/man1 $(MANDIR)/man3 \
                $(BASHCOMPDIR) $(ZSHCOMPDIR)
INSTALLED_FILES := $(LIBDIR)/$(SHLIB) $(LIBDIR)/$(SONAME) $(LIBDIR)/libimgsync.so $(LIBDIR)/libimgsync.a \
                   $(PKGCONFIGDIR)/libimgsync.pc $(addprefix $(CMAKEDIR)/,$(notdir $(CMAKE_FILES))) \
                   $(INCLUDEDIR)/imgsync.h $(addprefix $(INCLUDEDIR)/imgsync/,$(notdir $(PUBLIC_HEADERS))) \
                   $(addprefix $(INCLUDEDIR)/imgsync/sys/,$(notdir $(SYS_HEADERS))) $(BINDIR)/imgsync \
                   $(MANDIR)/man1/imgsync.1 $(MANDIR)/man3/libimgsync.3 $(MANDIR)/man3/libimgsync-provider.3 \
                   $(BASHCOMPDIR)/imgsync $(ZSHCOMPDIR)/_imgsync
# ldconfig refreshes the linker cache after a root install into the system itself (not a staging DESTDIR)
RUN_LDCONFIG = $(and $(filter /usr /usr/local,$(patsubst %/,%,$(PREFIX))),$(if $(DESTDIR),,yes))

INSTALL_INPUTS := build/$(SHLIB) build/libimgsync.a build/imgsync-installed build/libimgsync.pc \
                  $(CMAKE_FILES) $(MAN_PAGES)

install:
	@[ "$$(cat $(DIRS_STAMP) 2>/dev/null)" = '$(DIRS_NOW)' ] || { echo "make install: build/ was not \
	made for these directories ($(DIRS_NOW)): run 'make' with the same PREFIX/LIBDIR/INCLUDEDIR/BINDIR \
	first (make install only copies)" >&2; exit 1; }
	@for f in $(INSTALL_INPUTS); do [ -f "$$f" ] || { echo "make install: $$f is missing: run 'make' first" >&2; \
	  exit 1; }; done
	@# the directories (and parents) that do not exist yet, and those an earlier install made:
	@# uninstall removes them again when empty
	@created=$$(for d in $(INSTALL_DIRS); do while [ "$$d" != / ] && [ ! -d "$(DESTDIR)$$d" ]; do \
	  echo "$$d"; d=$$(dirname "$$d"); done; done; cat $(DESTDIR)$(CMAKEDIR)/installed-dirs 2>/dev/null); \
	echo "install -d $(addprefix $(DESTDIR),$(INSTALL_DIRS))"; \
	install -d $(addprefix $(DESTDIR),$(INSTALL_DIRS)) && \
	printf '%s\n' $$created | sort -u >$(DESTDIR)$(CMAKEDIR)/installed-dirs && \
	chmod 644 $(DESTDIR)$(CMAKEDIR)/installed-dirs
	install -m 644 include/imgsync.h $(DESTDIR)$(INCLUDEDIR)/imgsync.h
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCLUDEDIR)/imgsync/
	install -m 644 $(SYS_HEADERS) $(DESTDIR)$(INCLUDEDIR)/imgsync/sys/
	install -m 755 build/$(SHLIB) $(DESTDIR)$(LIBDIR)/$(SHLIB)
	ln -sf $(SHLIB) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libimgsync.so
	install -m 644 build/libimgsync.a $(DESTDIR)$(LIBDIR)/libimgsync.a
	install -m 644 build/libimgsync.pc $(DESTDIR)$(PKGCONFIGDIR)/libimgsync.pc
	install -m 644 $(CMAKE_FILES) $(DESTDIR)$(CMAKEDIR)/
	install -m 755 build/imgsync-installed $(DESTDIR)$(BINDIR)/imgsync
	install -m 644 build/man/imgsync.1 $(DESTDIR)$(MANDIR)/man1/imgsync.1
	install -m 644 build/man/libimgsync.3 build/man/libimgsync-provider.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 completion/imgsync.bash $(DESTDIR)$(BASHCOMPDIR)/imgsync
	install -m 644 completion/_imgsync $(DESTDIR)$(ZSHCOMPDIR)/_imgsync
	@if [ -n "$(RUN_LDCONFIG)" ] && [ "$$(id -u)" -eq 0 ]; then echo ldconfig; ldconfig; fi

# removes the installed files, then the directories install created (recorded in
# $(CMAKEDIR)/installed-dirs), deepest first, when they are empty
uninstall:
	@created=$$(cat $(DESTDIR)$(CMAKEDIR)/installed-dirs 2>/dev/null); \
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_FILES)) $(DESTDIR)$(CMAKEDIR)/installed-dirs; \
	for d in $$(printf '%s\n' $$created | sort -r); do rmdir "$(DESTDIR)$$d" 2>/dev/null || true; done
	@if [ -n "$(RUN_LDCONFIG)" ] && [ "$$(id -u)" -eq 0 ]; then echo ldconfig; ldconfig; fi

clean:
	rm -rf build
