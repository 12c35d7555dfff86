# Early Bird sync conformance kit — the one, non-recursive Makefile.
#
#   make               build the libraries and every program (build/release)
#   make test          build and run every test (unit, integration, fuzz corpus
#                      replay, suite self-proof)
#   make SANITIZE=1 …  the same with ASan+UBSan (build/sanitize)
#   make SANITIZE=thread tsan   ThreadSanitizer build of the threaded programs
#                      (ebconform, ebload; ebmock to run them against) and
#                      the runs that exercise their threads (build/thread)
#   make fuzz          libFuzzer runs of every target (clang, build/fuzz)
#   make bench         benchmarks, JSON results under build/bench
#   make deps          install the Debian packages the kit needs
#   make run           start ebmock, run ebconform against it, show the verdict
#   make lint          shellcheck and cppcheck (make test runs it too)
#   V=1                show the commands
#   CC=, OPT=, WERROR= another compiler, other optimisation flags, warnings
#                      not fatal; jobs default to one per core (-jN wins)
#   BUILD=dir          put build/<config> under another folder (parallel work)

CONFIG := release
ifeq ($(SANITIZE),1)
CONFIG := sanitize
endif
ifeq ($(SANITIZE),thread)
CONFIG := thread
endif
BUILD ?= build
B := $(BUILD)/$(CONFIG)

# gcc unless the caller names a compiler (make CC=clang): make's own default
# is cc. WERROR= keeps warnings as warnings (a newer compiler's new warning
# should not stop a user's build); OPT=... replaces the optimisation flags
# only: a sanitized build keeps its sanitizers (SAN) whatever OPT says.
ifeq ($(origin CC),default)
CC := gcc
endif
WERROR ?= -Werror
# Parallel by default, one job per core; an explicit -jN wins.
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
Q := @
ifeq ($(V),1)
Q :=
endif

PKGS := libwebsockets libcjson libcurl libjwt sqlite3 libpq openssl check
# Recursive on purpose: expanded when a recipe runs, after deps are installed.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

WARN := -std=c11 -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wwrite-strings
BASE_CFLAGS := $(WARN) -D_GNU_SOURCE -g -MMD -MP
# Sanitizer flags (SAN) apart from the optimisation flags (OPT), so that
# `make SANITIZE=1 OPT=-O0` is still a sanitized build.
ifeq ($(CONFIG),sanitize)
OPT := -O1 -fno-omit-frame-pointer
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
else ifeq ($(CONFIG),thread)
OPT := -O1 -fno-omit-frame-pointer
SAN := -fsanitize=thread
else
OPT := -O2
SAN :=
endif
# INC: each folder's include path, set per folder below.
ALL_CFLAGS = $(BASE_CFLAGS) $(INC) $(OPT) $(SAN) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)

# ---- include paths: each folder sees its own headers and those of the
# libraries it links, so that a wrong include fails to compile (as curl keeps
# lib/ and src/ apart). The libraries are layered: protocol/ (the messages)
# under reports/ (what a run wrote, wire logs included) under net/ (the
# client side of the network, which logs its traffic into wire logs).
# tests/scripts/layout.sh proves that a wrong include fails.
INC_PROTO := -Iprotocol
INC_REPORT := $(INC_PROTO) -Ireports
INC_NET := $(INC_REPORT) -Inet
$(B)/obj/protocol/% $(B)/obj/gen/%: INC := $(INC_PROTO)
$(B)/obj/reports/%: INC := $(INC_REPORT)
$(B)/obj/net/%: INC := $(INC_NET)
$(B)/obj/tests/support/%: INC := -Itests/support
# programs: their own folder and the libraries they link
$(B)/obj/mockserver/%: INC := -Imockserver $(INC_NET)
$(B)/obj/conformance/%: INC := -Iconformance $(INC_NET)
$(B)/obj/loadgen/%: INC := -Iloadgen $(INC_NET)
$(B)/obj/client/%: INC := -Iclient -Iclient/lib $(INC_NET)
$(B)/obj/fuzz/net/%: INC := -Ifuzz/net $(INC_NET)
$(B)/obj/fuzz/targets/% $(B)/obj/fuzz/replay_main.o: INC := -Ifuzz -Imockserver/core $(INC_NET)
$(B)/obj/tools/%: INC := $(INC_REPORT)
# tests: the libraries and the program cores they test
$(B)/obj/tests/unit/%: INC := -Itests/support -Iconformance -Imockserver/core \
	-Iclient/lib $(INC_NET)
$(B)/obj/tests/integration/%: INC := -Itests/support $(INC_NET)
$(B)/obj/tests/schemas/%: INC := $(INC_PROTO)
$(B)/obj/tests/hostile/%: INC :=
# `make BUILD=b b/release/obj/DIR/x.inc` prints the include path of DIR's
# objects (tests/scripts/layout.sh compiles probes with it).
$(B)/obj/%.inc:
	@echo '$(INC)'

DEPS_STAMP := build/.deps-ok

# ---- sources ---------------------------------------------------------------
PROTO_SRC := $(wildcard protocol/*.c)
PROTO_OBJ := $(PROTO_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/eb_rules.o
REPORT_SRC := $(wildcard reports/*.c)
REPORT_OBJ := $(REPORT_SRC:%.c=$(B)/obj/%.o)
NET_SRC := $(wildcard net/*.c)
NET_OBJ := $(NET_SRC:%.c=$(B)/obj/%.o)
MOCKCORE_SRC := $(wildcard mockserver/core/*.c)
MOCKCORE_OBJ := $(MOCKCORE_SRC:%.c=$(B)/obj/%.o)
CONFCORE_SRC := $(wildcard conformance/core/*.c)
CONFCORE_OBJ := $(CONFCORE_SRC:%.c=$(B)/obj/%.o)
CLIENTLIB_SRC := $(wildcard client/lib/*.c)
CLIENTLIB_OBJ := $(CLIENTLIB_SRC:%.c=$(B)/obj/%.o)
TSUP_SRC := $(wildcard tests/support/*.c)
TSUP_OBJ := $(TSUP_SRC:%.c=$(B)/obj/%.o)

LIBEB := $(B)/lib/libeb.a
LIBREPORT := $(B)/lib/libebreport.a
LIBNET := $(B)/lib/libebnet.a
LIBTSUP := $(B)/lib/libebtestsupport.a
# The socket-free core of ebmock (store, handlers, defects): linked by ebmock,
# its tests and the handler fuzz target.
LIBMOCK := $(B)/lib/libebmock.a
# The I/O-free pieces of ebconform's runner: linked by ebconform and its tests.
LIBCONF := $(B)/lib/libebconform.a
# The reference client SDK (client/lib): linked by ebclient and its tests.
LIBCLIENT := $(B)/lib/libebclient.a
# Link order: dependents first.
KIT_LIBS := $(LIBNET) $(LIBREPORT) $(LIBEB)

MOCK_SRC := $(wildcard mockserver/*.c)
CONF_SRC := $(wildcard conformance/*.c conformance/cases/*.c conformance/client/*.c)
CLIENT_SRC := $(wildcard client/*.c)
EBFUZZ_SRC := $(wildcard fuzz/net/*.c)
LOAD_SRC := $(wildcard loadgen/*.c)
# docs/BENCHMARKS.md's plots from the benches' JSON (tools/ebplot.c)
PLOT_SRC := tools/ebplot.c

PROGRAMS :=
ifneq ($(MOCK_SRC),)
PROGRAMS += $(B)/bin/ebmock
endif
ifneq ($(CONF_SRC),)
PROGRAMS += $(B)/bin/ebconform
endif
ifneq ($(EBFUZZ_SRC),)
PROGRAMS += $(B)/bin/ebfuzz
endif
ifneq ($(LOAD_SRC),)
PROGRAMS += $(B)/bin/ebload
endif
ifneq ($(CLIENT_SRC),)
PROGRAMS += $(B)/bin/ebclient
endif
PROGRAMS += $(B)/bin/ebplot

UNIT_SRC := $(wildcard tests/unit/check_*.c)
INTEG_SRC := $(wildcard tests/integration/check_*.c)
TEST_BINS := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%) \
	$(INTEG_SRC:tests/integration/%.c=$(B)/tests/%)

# The hostile-server test program (tests/hostile): the harness's tests play
# misbehaving servers with it (tests/scripts/hostile_servers.sh).
HOSTILE_SRC := $(wildcard tests/hostile/*.c)
HOSTILE_BIN := $(if $(HOSTILE_SRC),$(B)/tests/ebhostile)

FUZZ_TARGET_SRC := $(wildcard fuzz/targets/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_TARGET_SRC:fuzz/targets/%.c=%)
FUZZ_REPLAY_BINS := $(FUZZ_NAMES:%=$(B)/fuzz/%)

ALL_OBJ := $(PROTO_OBJ) $(REPORT_OBJ) $(NET_OBJ) $(TSUP_OBJ) $(MOCKCORE_OBJ) \
	$(CONFCORE_OBJ) $(CLIENTLIB_OBJ) $(CLIENT_SRC:%.c=$(B)/obj/%.o) \
	$(MOCK_SRC:%.c=$(B)/obj/%.o) $(CONF_SRC:%.c=$(B)/obj/%.o) \
	$(EBFUZZ_SRC:%.c=$(B)/obj/%.o) $(LOAD_SRC:%.c=$(B)/obj/%.o) $(PLOT_SRC:%.c=$(B)/obj/%.o) \
	$(UNIT_SRC:%.c=$(B)/obj/%.o) $(INTEG_SRC:%.c=$(B)/obj/%.o) \
	$(FUZZ_TARGET_SRC:%.c=$(B)/obj/%.o) $(B)/obj/fuzz/replay_main.o \
	$(HOSTILE_SRC:%.c=$(B)/obj/%.o)

.PHONY: all test unit-test check deps run bench bench-load fuzz clean programs lint
all: $(LIBEB) $(LIBREPORT) $(LIBNET) $(LIBTSUP) $(LIBCLIENT) $(PROGRAMS)
programs: $(PROGRAMS)

# ---- dependencies (Debian packages) -----------------------------------------
$(DEPS_STAMP): tools/deps.sh
	$(Q)sh tools/deps.sh
	$(Q)mkdir -p $(@D) && touch $@
deps:
	$(Q)sh tools/deps.sh

# ---- compile ---------------------------------------------------------------
$(B)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/gen/eb_rules.c: docs/PROTOCOL.md tools/gen_rules.awk
	@mkdir -p $(@D)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)awk -f tools/gen_rules.awk docs/PROTOCOL.md > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/eb_rules.o: $(B)/gen/eb_rules.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# ---- libraries -------------------------------------------------------------
define make_lib
$(1): $(2)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  AR      $$@")
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(eval $(call make_lib,$(LIBEB),$(PROTO_OBJ)))
$(eval $(call make_lib,$(LIBREPORT),$(REPORT_OBJ)))
$(eval $(call make_lib,$(LIBNET),$(NET_OBJ)))
$(eval $(call make_lib,$(LIBTSUP),$(TSUP_OBJ)))
$(eval $(call make_lib,$(LIBMOCK),$(MOCKCORE_OBJ)))
$(eval $(call make_lib,$(LIBCONF),$(CONFCORE_OBJ)))
$(eval $(call make_lib,$(LIBCLIENT),$(CLIENTLIB_OBJ)))

# ---- programs --------------------------------------------------------------
define make_prog
$(B)/bin/$(1): $(2:%.c=$(B)/obj/%.o) $(3)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LINK    $$@")
	$$(Q)$$(CC) $$(ALL_LDFLAGS) -o $$@ $(2:%.c=$(B)/obj/%.o) $(3) $$(PKG_LIBS)
endef
$(eval $(call make_prog,ebmock,$(MOCK_SRC),$(LIBMOCK) $(KIT_LIBS)))
$(eval $(call make_prog,ebconform,$(CONF_SRC),$(LIBCONF) $(KIT_LIBS)))
$(eval $(call make_prog,ebfuzz,$(EBFUZZ_SRC),$(KIT_LIBS)))
$(eval $(call make_prog,ebload,$(LOAD_SRC),$(KIT_LIBS)))
$(eval $(call make_prog,ebclient,$(CLIENT_SRC),$(LIBCLIENT) $(KIT_LIBS)))
$(eval $(call make_prog,ebplot,$(PLOT_SRC),$(KIT_LIBS)))

# ---- tests -----------------------------------------------------------------
$(B)/tests/%: $(B)/obj/tests/unit/%.o $(LIBTSUP) $(LIBMOCK) $(LIBCONF) $(LIBCLIENT) $(KIT_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBTSUP) $(LIBMOCK) $(LIBCONF) $(LIBCLIENT) $(KIT_LIBS) $(PKG_LIBS)

$(B)/tests/%: $(B)/obj/tests/integration/%.o $(LIBTSUP) $(LIBMOCK) $(KIT_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBTSUP) $(LIBMOCK) $(KIT_LIBS) $(PKG_LIBS)

$(B)/tests/ebhostile: $(HOSTILE_SRC:%.c=$(B)/obj/%.o)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Fuzz targets as plain programs: the replay driver feeds them corpus files.
$(B)/fuzz/%: $(B)/obj/fuzz/targets/%.o $(B)/obj/fuzz/replay_main.o $(LIBMOCK) $(KIT_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/obj/fuzz/replay_main.o $(LIBMOCK) $(KIT_LIBS) $(PKG_LIBS)

test: all $(TEST_BINS) $(FUZZ_REPLAY_BINS) $(LIBTSUP) $(HOSTILE_BIN)
	$(Q)sh tools/run-tests.sh $(B)

unit-test check: test

# ThreadSanitizer: only the threaded programs and tests/tsan/run.sh, which
# runs their threads (ebconform's runner, watchdog and case threads, ebload's
# pushers and the push-ring seqlock); .ci/run runs it after the sanitized
# tests. Under another SANITIZE it builds nothing of its own.
TSAN_PROGS := $(B)/bin/ebconform $(B)/bin/ebload $(B)/bin/ebmock
.PHONY: tsan
tsan: $(TSAN_PROGS)
	$(Q)sh tests/tsan/run.sh $(B)

# ---- fuzzing (clang + libFuzzer) ---------------------------------------------
FUZZ_SECONDS ?= 30
fuzz: | $(DEPS_STAMP)
	$(Q)sh tools/fuzz.sh $(FUZZ_SECONDS)

# ---- main job and benchmarks -----------------------------------------------
run: all
	$(Q)sh tools/run.sh $(B)

bench: all
	$(Q)sh tools/bench.sh $(B)

bench-load: all
	$(Q)sh tools/bench-load.sh $(B)

clean:
	rm -rf build

# shellcheck and cppcheck over the whole tree (make test runs it too).
lint: | $(DEPS_STAMP)
	$(Q)sh tests/scripts/lint.sh

# ---- API documents and schemas kept true; the Debian package ---------------
# The unit tests of the protocol library, of ebmock's handlers, of the client
# SDK and of ebload's message scanner, linked a
# second time with every encoder wrapped (tests/schemas/eb_encode_tap.c):
# tests/scripts/schemas.sh runs them with EB_SCHEMA_DUMP_DIR set and
# validates each encoded message against docs/openapi.yaml / asyncapi.yaml.
SCHEMA_TAP_FUNCS := eb_sync_request_encode eb_sync_response_encode \
	eb_error_body_encode eb_limits_encode eb_ws_encode_auth \
	eb_ws_encode_subscribe eb_ws_encode_ping eb_ws_encode_auth_ok \
	eb_ws_encode_sub_ack eb_ws_encode_pong eb_ws_encode_store_changed \
	eb_ws_encode_error
SCHEMA_TAP_TESTS := $(filter $(UNIT_SRC:tests/unit/%.c=%),check_msg check_ws check_ebm_ws check_ebm_faults \
	check_client check_wsgen)
SCHEMA_TAP_BINS := $(SCHEMA_TAP_TESTS:%=$(B)/schema-tap/%)
SCHEMA_TAP_OBJ := $(B)/obj/tests/schemas/eb_encode_tap.o
$(B)/schema-tap/%: $(B)/obj/tests/unit/%.o $(SCHEMA_TAP_OBJ) $(LIBTSUP) $(LIBMOCK) $(LIBCONF) $(LIBCLIENT) $(KIT_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) $(SCHEMA_TAP_FUNCS:%=-Wl,--wrap=%) -o $@ $< $(SCHEMA_TAP_OBJ) \
		$(LIBTSUP) $(LIBMOCK) $(LIBCONF) $(LIBCLIENT) $(KIT_LIBS) $(PKG_LIBS)

# The pinned npm validators (tools/validators: Redocly, the AsyncAPI parser,
# Ajv), installed with `npm ci` only when missing or older than the lockfile.
.PHONY: validators deb
validators:
	$(Q)sh tools/validators/install.sh

test: $(SCHEMA_TAP_BINS) validators

# earlybird-kit_<EB_KIT_VERSION>_amd64.deb in $(BUILD)/deb/ (tools/deb.sh).
deb: all
	$(Q)sh tools/deb.sh $(B) $(BUILD)/deb

# Objects of pattern-built tests are intermediates; keep them (no rebuild
# every run). Only those: a library's object marked so would not be rebuilt
# when it is missing but its source is older than the library (a file moved
# into the library's folder).
.SECONDARY: $(UNIT_SRC:%.c=$(B)/obj/%.o) $(INTEG_SRC:%.c=$(B)/obj/%.o) \
	$(FUZZ_TARGET_SRC:%.c=$(B)/obj/%.o) $(B)/obj/fuzz/replay_main.o $(SCHEMA_TAP_OBJ)
.DELETE_ON_ERROR:

-include $(ALL_OBJ:.o=.d)
-include $(SCHEMA_TAP_OBJ:.o=.d)
