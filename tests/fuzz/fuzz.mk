# libFuzzer harnesses, included by the Makefile.
#   make fuzz-build          build every harness tests/fuzz/fuzz_*.c into build/fuzz/bin/
#   make fuzz                build them, then run each for $(FUZZ_SECONDS) s (default 20) on a copy
#                            of its seed corpus tests/fuzz/corpus/<harness>/; fails on any crash,
#                            leak, UBSan report or timeout (reproducer in build/fuzz/artifacts/)
#   make fuzz FUZZ_ONLY=fuzz_url   one harness only
# Everything (objects, binaries, scratch corpora, logs) lives under build/fuzz/: the library is
# compiled again with clang and the sanitizers there, never mixed with the objects of build/.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_ONLY    ?=
FUZZ_DIR     := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c99 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DIMGSYNC_BUILDING_LIBRARY \
                -O1 -g -gdwarf-4 $(WARNFLAGS) $(WERROR) $(FUZZ_SAN) -fvisibility=hidden \
                -Iinclude -Isrc -Itests $(shell $(PKG_CONFIG) --cflags $(DEPS_PC) 2>/dev/null)

FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/bin/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
# the test support the provider harnesses use: the replay harness over the fake transport and clock
FUZZ_SUPPORT_OBJ := $(addprefix $(FUZZ_DIR)/obj/tests/support/,fake_clock.o fake_transport.o replay.o)

.PHONY: fuzz fuzz-build

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_SUPPORT_OBJ:.o=.d) $(FUZZ_BIN:=.d)

$(FUZZ_DIR)/libimgsync-fuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_LIB_OBJ)

$(FUZZ_DIR)/bin/%: tests/fuzz/%.c $(FUZZ_SUPPORT_OBJ) $(FUZZ_DIR)/libimgsync-fuzz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -MF $@.d -o $@ $< $(FUZZ_EXTRA_OBJ) $(FUZZ_SUPPORT_OBJ) \
	  $(FUZZ_DIR)/libimgsync-fuzz.a $(DEP_LIBS)

# fuzz_reference: the imgsync program's image reference parser (one file of src/cli)
$(FUZZ_DIR)/bin/fuzz_reference: $(FUZZ_DIR)/obj/src/cli/reference.o
$(FUZZ_DIR)/bin/fuzz_reference: private FUZZ_EXTRA_OBJ := $(FUZZ_DIR)/obj/src/cli/reference.o

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(if $(FUZZ_ONLY),$(FUZZ_ONLY:%=$(FUZZ_DIR)/bin/%),$(FUZZ_BIN))
