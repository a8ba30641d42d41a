# leal - one Makefile for everything (GNU make). See README.md.
#
#   make deps     install the Debian 12 packages leal needs (root; a no-op when present) and
#                 tests/web's pinned playwright-core (npm ci; no browser download)
#   make          build bin/leal, bin/leal-cardsim and bin/leal-terminal (release flags)
#                 into build/release/
#   make test     deps, lint, then every unit, fuzz-replay and integration test under
#                 ASan+UBSan; ends with "N passed, N failed"
#   make bench    build release and print each benchmark as a ratio to a same-run reference
#   make fuzz     libFuzzer (clang) on every target for FUZZ_SECONDS each
#   make install  the programs and their manual pages (host/man/); PREFIX (default
#                 /usr/local), MANDIR and DESTDIR honoured; make uninstall removes them
#   make lint     format-check, cppcheck, checksrc, check-freestanding, check-size

SHELL := /bin/bash
VARIANT ?= release
O := build/$(VARIANT)
PREFIX ?= /usr/local
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
FUZZ_SECONDS ?= 60

# Debian 12 packages: build, test and run dependencies.
DEB_PACKAGES := build-essential pkg-config clang libclang-rt-14-dev clang-format clang-tidy cppcheck \
	libssl-dev openssl libsqlite3-dev sqlite3 libpcsclite-dev pcscd pcsc-tools vsmartcard-vpcd \
	libnfc-dev libnfc-bin libnfc-examples libfreefare-dev libfreefare-bin libqrencode-dev \
	libpng-dev libjpeg62-turbo-dev libjansson-dev zbar-tools libzbar-dev librsvg2-bin poppler-utils libcmocka-dev python3 python3-cryptography python3-pil util-linux procps man-db groff-base \
	libmicrohttpd-dev libargon2-dev curl libxlsxwriter-dev python3-openpyxl chromium nodejs file libcurl4-openssl-dev python3-aiosmtpd
DEB_PACKAGES += python3-pyscard # tests/interop/ev2_client.py (issue 19)
DEB_PACKAGES += postgresql-15 libpq-dev # the ledger on PostgreSQL (issue 20, tests/lib/pg.sh)

PKGS := libpcsclite libnfc libcrypto sqlite3 libqrencode libpng jansson zbar libjpeg libmicrohttpd libargon2 xlsxwriter libcurl
PKGS += libpq
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS = $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

CC ?= cc
CSTD := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wconversion \
	-Wformat=2 -Wno-format-nonliteral
ifeq ($(VARIANT),asan)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else
OPT := -O2 -g
endif
BASE_CFLAGS = $(CSTD) $(WARN) $(OPT) -I. -MMD -MP
CFLAGS_HOSTED = $(BASE_CFLAGS) $(PKG_CFLAGS) -DLEAL_VERSION=\"$(LEAL_VERSION)\"
CFLAGS_FREESTANDING = $(BASE_CFLAGS) -ffreestanding
# --as-needed: each program records only the libraries it calls (leal-cardsim needs 14 fewer
# than leal), so a process loads and relocates no more than it uses.
LDFLAGS_ALL = $(OPT) -Wl,--as-needed
ifeq ($(VARIANT),asan)
# The test build links at a fixed address: an ASan leal's 160,000 relative relocations (most of
# them ASan's descriptors of its globals) are a start's work otherwise, and make test starts
# thousands of them (11% less CPU a start: 0.164 s instead of 0.185). Release stays PIE.
LDFLAGS_ALL += -no-pie
endif
LEAL_VERSION := 0.1.0

# Objects of test programs are intermediate to make; keep them, so a second `make test-build`
# relinks nothing and recompiles only what changed.
.SECONDARY:

# Sources are found, not listed: a new file joins the build where it is put.
# Freestanding folders (ARCHITECTURE.md): keys/ (not keys/hosted), cardlayout/, firmware/core/.
FS_SRC := $(sort $(wildcard keys/base/*.c keys/*.c keys/portable/*.c) $(shell find cardlayout firmware/core -name '*.c' 2>/dev/null))
HOSTED_LIB_SRC := $(sort $(shell find keys/hosted host -name '*.c' -not -path 'host/cli/*' \
	-not -path 'host/cardsim/cli/*' 2>/dev/null))
# The terminal ports (firmware/port/): the template (a board port's starting point) is
# freestanding and compiled here so the contract cannot drift from it; the POSIX port is hosted.
FS_SRC += $(sort $(wildcard firmware/port/template/*.c))
# leal-terminal (firmware/port/posix/terminal_*.c: its commands) is a program, not library code.
TERMINAL_MAIN_SRC := $(wildcard firmware/port/posix/terminal_*.c)
HOSTED_LIB_SRC += $(filter-out $(TERMINAL_MAIN_SRC),$(sort $(wildcard firmware/port/posix/*.c)))
LEAL_MAIN_SRC := $(sort $(wildcard host/cli/*.c))
CARDSIM_MAIN_SRC := $(sort $(wildcard host/cardsim/cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*_test.c))
# Programs that prove interoperability: built from other people's libraries only.
INTEROP_SRC := $(sort $(wildcard tests/interop/*.c))
TESTLIB_SRC := $(sort $(wildcard tests/lib/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard tests/bench/bench_*.c))

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))
LIB := $(O)/libleal.a
BIN_LEAL := $(O)/bin/leal
BIN_CARDSIM := $(O)/bin/leal-cardsim
BIN_TERMINAL := $(O)/bin/leal-terminal
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(UNIT_SRC))
INTEROP_BINS := $(patsubst tests/interop/%.c,$(O)/tests/interop/%,$(INTEROP_SRC))
REPLAY_BINS := $(patsubst tests/fuzz/%.c,$(O)/tests/replay/%,$(FUZZ_SRC))
BENCH_BINS := $(patsubst tests/bench/%.c,$(O)/tests/bench/%,$(BENCH_SRC))
PROGRAMS := $(BIN_LEAL) $(if $(CARDSIM_MAIN_SRC),$(BIN_CARDSIM)) $(BIN_TERMINAL)

.PHONY: all deps test test-build bench fuzz fuzz-build demo install uninstall clean lint format \
	format-check cppcheck checksrc check-freestanding check-size
.DEFAULT_GOAL := all

all: $(PROGRAMS)

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(if $(filter $(FS_SRC),$<),$(CFLAGS_FREESTANDING),$(CFLAGS_HOSTED)) \
		$(if $(filter tests/%,$<),$(CMOCKA_CFLAGS) -DLEAL_UNIT_TEST) -c $< -o $@

$(LIB): $(call obj,$(FS_SRC) $(HOSTED_LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN_LEAL): $(call obj,$(LEAL_MAIN_SRC)) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lutil

$(BIN_CARDSIM): $(call obj,$(CARDSIM_MAIN_SRC)) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lutil

$(BIN_TERMINAL): $(call obj,$(TERMINAL_MAIN_SRC)) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lutil

$(O)/tests/unit/%: $(O)/obj/tests/unit/%.o $(call obj,$(TESTLIB_SRC)) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) -lutil

# cli_test checks the CLI's exit-code map (host/cli/cli.c, outside the library).
$(O)/tests/unit/cli_test: $(call obj,host/cli/cli.c)

$(O)/tests/interop/%: tests/interop/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) -o $@ $< $(shell pkg-config --cflags --libs libfreefare libnfc)

$(O)/tests/replay/%: $(O)/obj/tests/fuzz/%.o $(O)/obj/tests/fuzz/replay.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lutil

# fuzz_sync_import's ledger is bench_sync's (tests/lib/sync_ledger.c, ledger_cards.c), linked before
# the library.
$(O)/tests/replay/fuzz_sync_import: $(O)/obj/tests/fuzz/fuzz_sync_import.o \
		$(O)/obj/tests/fuzz/replay.o $(call obj,tests/lib/sync_ledger.c tests/lib/ledger_cards.c) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lutil

$(O)/tests/bench/%: $(O)/obj/tests/bench/%.o $(call obj,$(TESTLIB_SRC)) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) -lutil

# Test tools the integration scripts and benches run (tests/tools/NAME.c, one program each).
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(patsubst tests/tools/%.c,$(O)/tests/tools/%,$(TOOL_SRC))
$(O)/tests/tools/%: $(O)/obj/tests/tools/%.o $(call obj,$(TESTLIB_SRC)) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) -lutil
# The test build of leal-terminal with a power cut (its commands without its main).
$(O)/tests/tools/terminal_cut: $(O)/obj/tests/tools/terminal_cut.o \
		$(call obj,$(filter-out %/terminal_entry.c,$(TERMINAL_MAIN_SRC)) $(TESTLIB_SRC)) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) -lutil
# The test build of `leal sync` that kills itself after the Nth journal entry (its commands without
# leal.c's main).
$(O)/tests/tools/sync_kill: $(O)/obj/tests/tools/sync_kill.o \
		$(call obj,$(filter-out %/leal.c,$(LEAL_MAIN_SRC)) $(TESTLIB_SRC)) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) -lutil
test-build: $(TOOL_BINS)
bench: $(TOOL_BINS)
demo: $(TOOL_BINS)

# Keep the replay main out of the library and out of the fuzz_ pattern.
$(O)/obj/tests/fuzz/replay.o: tests/fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_HOSTED) -c $< -o $@

deps:
	@tests/lib/deps.sh $(DEB_PACKAGES)
	@tests/web/install.sh

test-build: $(PROGRAMS) $(UNIT_BINS) $(REPLAY_BINS) $(INTEROP_BINS)

# make test builds with one job per CPU (BUILD_JOBS) unless make was given -j, and runs
# the tests LEAL_TEST_JOBS at a time (tests/run.sh).
BUILD_JOBS ?= $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc))
# Each build's wall time is printed (the budget is make test's whole time).
test: deps
	@t=$$(date +%s); \
	$(MAKE) $(BUILD_JOBS) --no-print-directory VARIANT=release all && \
	echo "make test: release build $$(($$(date +%s) - t)) s" && t=$$(date +%s) && \
	$(MAKE) $(BUILD_JOBS) --no-print-directory VARIANT=asan test-build && \
	echo "make test: asan build $$(($$(date +%s) - t)) s" && t=$$(date +%s) && \
	$(MAKE) $(BUILD_JOBS) --no-print-directory fuzz-build && \
	echo "make test: fuzz build $$(($$(date +%s) - t)) s"
	@tests/run.sh build/asan

bench: deps
	@$(MAKE) $(BUILD_JOBS) --no-print-directory VARIANT=release all $(patsubst build/asan/%,build/release/%,$(BENCH_BINS))
	@tests/bench/run.sh build/release

# libFuzzer (clang): the library is built once with coverage instrumentation, each
# target links it with -fsanitize=fuzzer. make test runs every target briefly
# (FUZZ_TEST_SECONDS) after replaying its corpus through the gcc build.
FUZZ_O := build/fuzz
FUZZ_CFLAGS = $(CSTD) -g -O1 -I. $(PKG_CFLAGS) -DLEAL_VERSION=\"$(LEAL_VERSION)\" \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_LIB := $(FUZZ_O)/libleal-fuzz.a
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_O)/bin/%,$(FUZZ_SRC))
$(FUZZ_O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(if $(filter $(FS_SRC),$<),-ffreestanding) -MMD -MP -c $< -o $@
$(FUZZ_LIB): $(patsubst %.c,$(FUZZ_O)/obj/%.o,$(FS_SRC) $(HOSTED_LIB_SRC))
	rm -f $@ && ar rcs $@ $^
$(FUZZ_O)/bin/%: $(FUZZ_O)/obj/tests/fuzz/%.o $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS) -lutil
$(FUZZ_O)/bin/fuzz_sync_import: $(FUZZ_O)/obj/tests/fuzz/fuzz_sync_import.o \
		$(FUZZ_O)/obj/tests/lib/sync_ledger.o $(FUZZ_O)/obj/tests/lib/ledger_cards.o $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS) -lutil
fuzz-build: $(FUZZ_BINS)
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@tests/lib/fuzz-run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

demo: deps all
	@tests/demo.sh build/release

MAN_PAGES := host/man/leal.1 host/man/leal-cardsim.1 host/man/leal-terminal.1

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/leal $(DESTDIR)$(PREFIX)/bin/leal-cardsim
	rm -f $(DESTDIR)$(PREFIX)/bin/leal-terminal
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN_PAGES)))

clean:
	rm -rf build

ALL_C_H := $(shell find keys cardlayout firmware host tests -name '*.[ch]' 2>/dev/null)
format:
	clang-format -i $(ALL_C_H)
format-check:
	@clang-format --dry-run -Werror $(ALL_C_H)
cppcheck:
	@cppcheck -q --std=c11 --enable=warning,portability,performance --error-exitcode=1 \
		--inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -I. \
		keys cardlayout firmware host tests
checksrc:
	@tests/lib/checksrc.sh
check-freestanding:
	@tests/lib/check-freestanding.sh $(FS_SRC)
	@d=$$(mktemp -d) && FS_O2_KEEP=$$d tests/lib/freestanding/link_terminal.sh && \
		FS_O2=$$d tests/lib/freestanding/link_portable.sh && \
		FS_O2=$$d tests/lib/freestanding/link_journal.sh; s=$$?; rm -rf "$$d"; exit $$s
# Issue 11's size rule over product code (not tests): functions <= 80 lines,
# <= 6 parameters, against a baseline of today's violators that only shrinks.
check-size:
	@CHECK_SIZE_CFLAGS='$(CSTD) -I. $(PKG_CFLAGS) -DLEAL_VERSION="$(LEAL_VERSION)"' \
		tests/lib/check-size.sh tests/lib/size-baseline.txt \
		$(FS_SRC) $(HOSTED_LIB_SRC) $(LEAL_MAIN_SRC) $(CARDSIM_MAIN_SRC) $(TERMINAL_MAIN_SRC)
lint: format-check cppcheck checksrc check-freestanding check-size

# The back office's pages are embedded by .incbin (host/web/web_static.c).
WEB_STATIC := $(wildcard host/web/static/*)
$(O)/obj/host/web/web_static.o $(FUZZ_O)/obj/host/web/web_static.o: $(WEB_STATIC)

-include $(shell find build -name '*.d' 2>/dev/null)

# Issue 18: the terminal on a bare-metal Cortex-M3 (firmware/port/cortex-m/, QEMU mps2-an385),
# built with Debian's arm-none-eabi-gcc and picolibc (for memcpy/memset only). Not in `all`
# (it needs the cross compiler); `make test` builds it. `make firmware-run` boots it in QEMU.
DEB_PACKAGES += gcc-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm
FW_O := build/firmware
FW_ELF := $(FW_O)/leal-cm3.elf
FW_SRC := $(sort $(wildcard firmware/port/cortex-m/*.c keys/portable/*.c keys/*.c keys/base/*.c \
	firmware/core/*.c) $(shell find cardlayout -name '*.c') firmware/port/posix/package_store.c)
FW_CC := arm-none-eabi-gcc
FW_CFLAGS := -std=c11 -mcpu=cortex-m3 -mthumb -Os -g -ffreestanding -ffunction-sections \
	-fdata-sections -fstack-usage -fcallgraph-info=su -Wall -Wextra -Werror -Wshadow -Wconversion -I. \
	--specs=picolibc.specs
# The PN532 driver's frames on the board: 128 bytes of body, twice the longest frame its
# cards send (a DESFire frame is at most 64 bytes on the wire; firmware/core/pn532_frame.h).
FW_CFLAGS += -DPN532_MAX_BODY=128
# Four versions of each terminal key (keys/base/limits.h; the host keeps 16): four years of
# yearly rotation in a bundle that expires; the software SAM's RAM 4,016 -> about 1,100 bytes.
FW_CFLAGS += -DLEAL_MAX_KEY_VERSIONS=4
# Linked whole (-flto, one partition): 5.4 KiB less flash. The inlining must not merge the
# frames under a tap or a LOAD: LEAL_NOINLINE keeps desfire_card_tap_read, the PN532's
# send_frame and the till's open_journal/open_store apart (an earn's painted stack 3,888 -> 3,800
# bytes); tests/bench/fw_map.py then reads the parts from the line table (README, make bench).
FW_CFLAGS += -flto -flto-partition=one
# Makefile too: a change of FW_CFLAGS (-fcallgraph-info's .ci files) rebuilds every object.
# With -flto the objects hold no code and GCC writes no .ci or .su beside them (the link's own are
# build/firmware/leal-cm3.elf.ltrans0.ltrans.*): an older build's must not stay for fw_stack.py.
$(FW_O)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	@rm -f $(@:.o=.ci) $(@:.o=.su)
	$(FW_CC) $(FW_CFLAGS) -MMD -MP -c $< -o $@
# The image keeps its relocations (--emit-relocs, outside what is loaded): the stack bound
# (tests/bench/fw_stack.py) reads from them which functions the image calls through pointers.
$(FW_ELF): $(patsubst %.c,$(FW_O)/obj/%.o,$(FW_SRC)) firmware/port/cortex-m/mps2_an385.ld
	@rm -f $(FW_O)/leal-cm3.elf.ltrans*
	$(FW_CC) $(FW_CFLAGS) -nostartfiles -T firmware/port/cortex-m/mps2_an385.ld \
		-Wl,--gc-sections -Wl,--emit-relocs -Wl,-Map=$(FW_O)/leal-cm3.map -o $@ $(filter %.o,$^) \
		-lc -lgcc
.PHONY: firmware firmware-run
firmware: $(FW_ELF)
# UART0 is the console and the till's lines; FW_PN532=PTY wires UART1 to a PN532 (the
# pseudo-terminal of `leal-cardsim serve --pn532 LINK`: FW_PN532=$$(readlink LINK)).
# FW_FLASH=FILE keeps the board's flash in FILE from one run to the next (board.h).
firmware-run: $(FW_ELF)
	@qemu-system-arm -M mps2-an385 -nographic \
		-semihosting-config enable=on,target=native$(FW_FLASH:%=,arg=leal-cm3,arg=flash=%) \
		-kernel $(FW_ELF) $(if $(FW_PN532),-serial mon:stdio -serial $(FW_PN532))
test: firmware
bench: firmware
# The board's error table (firmware/port/cortex-m/err_subset.awk): err.c's entries for the
# codes the board's sources name, so its flash holds only sentences it can print. The recipe
# first checks that the script copies err.c whole when told to keep every entry.
FW_ERR_SCAN := $(filter-out keys/base/err.c keys/base/err.h,$(FW_SRC) $(wildcard \
	firmware/core/*.h firmware/port/cortex-m/*.h keys/*.h keys/base/*.h keys/portable/*.h) \
	$(shell find cardlayout -name '*.h') firmware/port/posix/package_store.h)
$(FW_O)/err_board.c: keys/base/err.c firmware/port/cortex-m/err_subset.awk $(FW_ERR_SCAN) Makefile
	@mkdir -p $(@D)
	@awk -v keep=ALL -f firmware/port/cortex-m/err_subset.awk keys/base/err.c | cmp -s - keys/base/err.c
	@awk -v names=1 -v keep="LEAL_OK $$(grep -ohw 'LEAL_E_[A-Z0-9_]*' $(FW_ERR_SCAN) | sort -u | tr '\n' ' ')" \
		-f firmware/port/cortex-m/err_subset.awk keys/base/err.c >$@.tmp && mv $@.tmp $@
$(FW_O)/obj/keys/base/err.o: $(FW_O)/err_board.c
	@mkdir -p $(dir $@)
	@rm -f $(@:.o=.ci) $(@:.o=.su)
	$(FW_CC) $(FW_CFLAGS) -MMD -MP -c $< -o $@
# `make -s till-names`: every name a till can be answered (`error NAME`, `REFUSED: NAME`) by the
# board or by `leal-terminal serve --stdio`, in code order: the board's table's, and those the PC's
# port and readers add (README "The offline terminal" lists them; tests/integration/till_names.sh).
TILL_SERVE_SCAN := $(addprefix firmware/port/posix/,terminal_serve.c terminal_tap.c \
	terminal_main.c posix_terminal.c posix_port.c file_storage.c) $(wildcard host/reader/*.c)
.PHONY: till-names
till-names:
	@awk -v names=1 -v keep="$$(grep -ohw 'LEAL_E_[A-Z0-9_]*' $(FW_ERR_SCAN) $(TILL_SERVE_SCAN) | \
		sort -u | tr '\n' ' ')" -f firmware/port/cortex-m/err_subset.awk keys/base/err.c | \
		sed -n 's/^    \(LEAL_E_[A-Z0-9_]*\),$$/\1/p'

# make bench-scale (issue 20, not in make test or make bench): tests/bench/chain.sh, the simulated
# chain, at the issue's size on SQLite and on PostgreSQL: 1,000 terminals, 1,000,000 carded
# customers, a week of 10,000,000 journal entries. Hours on two cores and about 20 GB under TMPDIR
# (three copies of the ledger) and as much in /tmp (the bench's cluster);
# LEAL_BENCH_CHAIN_TERMINALS, _CARDS, _ENTRIES, _DAYS, _IMPORTERS, _CLIENTS, _SECONDS, _BACKENDS
# override it.
.PHONY: bench-scale
bench-scale: deps
	@$(MAKE) --no-print-directory VARIANT=release all build/release/tests/tools/chain_gen
	@LEAL_BUILD=build/release LEAL_BENCH_CHAIN_TERMINALS=$${LEAL_BENCH_CHAIN_TERMINALS:-1000} \
		LEAL_BENCH_CHAIN_CARDS=$${LEAL_BENCH_CHAIN_CARDS:-1000000} \
		LEAL_BENCH_CHAIN_ENTRIES=$${LEAL_BENCH_CHAIN_ENTRIES:-10000000} \
		LEAL_BENCH_CHAIN_SECONDS=$${LEAL_BENCH_CHAIN_SECONDS:-60} bash tests/bench/chain.sh
