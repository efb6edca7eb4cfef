# bt - keeps a trading bot's market data honest.  See README.md and bt(7).

PREFIX?=	/usr/local
BINDIR?=	$(PREFIX)/bin
MANDIR?=	$(PREFIX)/share/man
# What bt-preflight and install-cron use on the installed host, in the
# tree's own layout (a script finds the others next to it).
SHAREDIR?=	$(PREFIX)/share/bt
SYSCONFDIR?=	/etc
DESTDIR?=

CC?=		cc
CFLAGS?=	-g -O2
PKG_CONFIG?=	pkg-config
LIBS_PKG=	sqlite3 libcurl jansson
# Error texts are cut to fit on purpose: -Wno-format-truncation.
override CFLAGS:=	-std=c17 -D_GNU_SOURCE -Wall -Wextra -Wno-format-truncation $(WERROR) \
		$(shell $(PKG_CONFIG) --cflags $(LIBS_PKG) 2>/dev/null) $(CFLAGS)
LDLIBS?=	-lpthread $(shell $(PKG_CONFIG) --libs $(LIBS_PKG) 2>/dev/null || \
		    echo -lsqlite3 -lcurl -ljansson) -lm

# Where objects go; `make san' builds the same tree with sanitizers.
O?=		build/obj
B?=		bin

LIBSRC=		$(sort $(wildcard src/bt_*.c))
HDRS=		$(wildcard src/bt_*.h)
LIBOBJ=		$(LIBSRC:src/%.c=$(O)/%.o)
PROGSRC=	$(sort $(wildcard src/bt-*.c))
PROGS=		$(PROGSRC:src/%.c=$(B)/%)
# bt-preflight(1), a POSIX sh script over the six: built (substituted)
# into $(B) like them, installed beside them.
PREFLIGHT=	$(B)/bt-preflight
MAN1=		$(sort $(wildcard man/*.1))
MAN5=		$(sort $(wildcard man/*.5))
MAN7=		$(sort $(wildcard man/*.7))
TESTS=		$(sort $(wildcard tests/[0-9]*.t))
# Two at a time: the suite is mostly waiting on processes and servers.
PROVEFLAGS?=	-j2
FUZZSRC=	$(sort $(wildcard tests/fuzz/fuzz-*.c))
# Installed under SHAREDIR: the crontab templates and their renderer, the
# dry run and the loopback test servers it runs against.
SHARE_CRONTAB=	crontab/bt crontab/logrotate
SHARE_SCRIPTS=	scripts/render-cron scripts/install-cron scripts/dry-run
SHARE_TESTS=	tests/srvlib.py tests/binance_server.py tests/telegram_server.py \
		tests/fred_server.py tests/ping_server.py tests/trader.py
# The dry run's data: the test servers' candles and FRED series.
SHARE_DATA=	tests/data/fred.json
SHARE_VISION=	$(sort $(wildcard tests/data/vision/*.csv))

SANFLAGS=	-fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer
# The test environment: programs from $(B) first on PATH.
TESTENV=	PATH="$(CURDIR)/$(B):$$PATH" BT_SRC="$(CURDIR)" LC_ALL=C TZ=UTC

all: $(PROGS) $(PREFLIGHT) $(O)/gen-conf-example

# Without the -dev packages, one line names them (`make deps' installs
# them) instead of a compiler error.
build-deps: FRC
	@scripts/deps build --check

# etc/bt.conf.example is generated from bt_conf.c's key table, and
# committed; `make lint' fails when the committed copy is stale.
$(O)/gen-conf-example: src/gen-conf-example.c $(HDRS) $(O)/libbt.a
	$(CC) $(CFLAGS) -o $@ src/gen-conf-example.c $(O)/libbt.a $(LDFLAGS) $(LDLIBS)

etc/bt.conf.example: $(O)/gen-conf-example
	@mkdir -p etc
	$(O)/gen-conf-example >$@.tmp && mv $@.tmp $@

$(O)/libbt.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

# The gnuplot script's default place (BACKTEST_EQUITY_PLOT) is SHAREDIR's.
$(O)/bt_conf.o: override CFLAGS += -DBT_SHAREDIR='"$(SHAREDIR)"'

$(O)/%.o: src/%.c $(HDRS) | build-deps
	@mkdir -p $(O)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/%: src/%.c $(HDRS) $(O)/libbt.a
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -o $@ $< $(O)/libbt.a $(LDFLAGS) $(LDLIBS)

# SUBST: bt-preflight's paths.  In $(B) it also knows the tree it was
# built in, and uses the tree's scripts/, tests/ and crontab/ (and the
# programs next to it) while that tree is there; installed, it does not.
SUBST=		-e 's|@SHAREDIR@|$(SHAREDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
		-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
$(PREFLIGHT): src/bt-preflight.sh Makefile
	@mkdir -p $(B)
	sed $(SUBST) -e 's|@TREE@|$(CURDIR)|g' src/bt-preflight.sh >$@.tmp
	chmod 0755 $@.tmp && mv $@.tmp $@

deps: FRC
	@scripts/deps build

# The suite twice: as built, then under ASan+UBSan; then the fuzzers briefly.
check: FRC
	@scripts/deps test
	$(MAKE) all WERROR=-Werror
	$(TESTENV) prove $(PROVEFLAGS) $(TESTS) </dev/null
	$(MAKE) san
	$(MAKE) test-san
	$(MAKE) fuzz FUZZTIME=$${FUZZTIME:-5}
	$(MAKE) lint

test: all
	$(TESTENV) prove $(PROVEFLAGS) $(TESTS) </dev/null

san: FRC
	$(MAKE) all O=build/san/obj B=build/san/bin WERROR=-Werror \
	    CFLAGS="-g -O1 $(SANFLAGS)" LDFLAGS="$(SANFLAGS)"

test-san: FRC
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:exitcode=86 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86 \
	BT_SANITIZED=1 $(MAKE) test O=build/san/obj B=build/san/bin \
	    CFLAGS="-g -O1 $(SANFLAGS)" LDFLAGS="$(SANFLAGS)" WERROR=-Werror

# libFuzzer harnesses; FUZZTIME seconds each (check uses a few).
FUZZTIME?=	60
fuzz: FRC
	@mkdir -p build/fuzz
	@set -e; for f in $(FUZZSRC); do \
	    n=$$(basename $$f .c); \
	    clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $$($(PKG_CONFIG) --cflags $(LIBS_PKG)) \
		-Isrc -o build/fuzz/$$n $$f $(LIBSRC) $(LDLIBS); \
	    mkdir -p build/fuzz/$$n.corpus; \
	    echo "fuzz: $$n for $(FUZZTIME)s"; \
	    build/fuzz/$$n -max_total_time=$(FUZZTIME) -print_final_stats=1 \
		build/fuzz/$$n.corpus tests/fuzz/corpus/$$n 2>build/fuzz/$$n.log \
		|| { tail -50 build/fuzz/$$n.log; exit 1; }; \
	    grep -E 'stat::number_of_executed_units|cov:' build/fuzz/$$n.log | tail -2; \
	done

lint: FRC
	@scripts/deps lint
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7)
	shellcheck -s sh src/bt-preflight.sh
	@$(O)/gen-conf-example >build/bt.conf.example && \
	    cmp -s build/bt.conf.example etc/bt.conf.example || { \
	    echo "etc/bt.conf.example is stale: make etc/bt.conf.example" >&2; \
	    exit 1; }

demo: FRC
	@scripts/deps build
	$(MAKE) all
	scripts/demo

bench: FRC
	@scripts/deps bench
	$(MAKE) all
	scripts/bench $(BENCHFLAGS)

# issue 7's campaigns in their long mode (hours); `make check' runs each
# in its quick mode.  Every campaign prints its figures as JSON lines.
CAMPAIGNS=	crash concurrency faults corruption resources fuzz week
campaigns: FRC
	@scripts/deps build
	$(MAKE) all
	for c in $(CAMPAIGNS); do scripts/campaign-$$c --long || exit 1; done

# The crontab and the logrotate file, with this installation's paths:
# scripts/install-cron checks every precondition (the six programs under
# BINDIR; without DESTDIR BT_USER, BT_CONF and cron's CRONDIR) before it
# writes anything, and takes back what it wrote when a later step fails;
# bt-crontab(5).  It writes the values it
# used to $(SYSCONFDIR)/bt/install.conf, and a later install-cron reads
# them.  So only values given on make's command line are passed on (the
# choice: not the environment's, where BT_HOME and BT_CONF are for ad hoc
# runs); the rest come from install.conf, then from the script's defaults.
CRONDIR?=	$(SYSCONFDIR)/cron.d
CRONVARS=	PREFIX BINDIR BT_USER BT_GROUP BT_HOME BT_CONF CRONDIR \
		LOGROTATEDIR BACKTEST_START_HOUR BACKTEST_START_MINUTE \
		BT_FETCH_DEADLINE
CRONARGS=	-D '$(DESTDIR)' -S '$(SYSCONFDIR)' $(strip $(foreach v,$(CRONVARS),\
		$(if $(filter command line,$(origin $(v))),'$(v)=$($(v))')))

# What install-cron would write, into build/ (values checked, the programs
# and the user not).
render-cron: FRC
	@mkdir -p build
	scripts/install-cron -o build $(CRONARGS)

install-cron: FRC
	scripts/install-cron $(CRONARGS)

# The cron file, the logrotate file, install.conf; never BT_HOME's data.
uninstall-cron: FRC
	scripts/install-cron -u $(CRONARGS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m0755 $(PROGS) $(DESTDIR)$(BINDIR)
	sed $(SUBST) -e 's|@TREE@||g' src/bt-preflight.sh \
	    >$(DESTDIR)$(BINDIR)/.bt-preflight.tmp
	chmod 0755 $(DESTDIR)$(BINDIR)/.bt-preflight.tmp
	mv $(DESTDIR)$(BINDIR)/.bt-preflight.tmp $(DESTDIR)$(BINDIR)/bt-preflight
	install -m0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	test -z "$(MAN5)" || install -m0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	install -m0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7
	install -d $(DESTDIR)$(SHAREDIR)/crontab $(DESTDIR)$(SHAREDIR)/scripts \
	    $(DESTDIR)$(SHAREDIR)/tests $(DESTDIR)$(SHAREDIR)/tests/data/vision
	install -m0644 $(SHARE_CRONTAB) $(DESTDIR)$(SHAREDIR)/crontab
	install -m0755 $(SHARE_SCRIPTS) $(DESTDIR)$(SHAREDIR)/scripts
	install -m0644 scripts/equity.gp $(DESTDIR)$(SHAREDIR)/scripts
	install -m0644 $(SHARE_TESTS) $(DESTDIR)$(SHAREDIR)/tests
	install -m0644 $(SHARE_DATA) $(DESTDIR)$(SHAREDIR)/tests/data
	install -m0644 $(SHARE_VISION) $(DESTDIR)$(SHAREDIR)/tests/data/vision
	@# The example only: an operator's bt.conf is never written.
	test -d $(DESTDIR)$(SYSCONFDIR)/bt || \
	    install -d -m0755 $(DESTDIR)$(SYSCONFDIR)/bt
	install -m0644 etc/bt.conf.example $(DESTDIR)$(SYSCONFDIR)/bt

# The choice: uninstall refuses while the cron file is there, since cron
# would go on starting jobs that exit 127 without the programs.  It never
# removes bt.conf or the token files next to it, and says it kept them.
uninstall: FRC
	@f=$$(scripts/install-cron -l $(CRONARGS)) || exit 1; \
	if [ -e "$$f" ]; then \
	    echo "make uninstall: cron file left behind: $$f: run make uninstall-cron first (without the programs every job would exit 127); nothing removed" >&2; \
	    exit 1; \
	fi
	for p in $(PROGS) $(PREFLIGHT); do \
	    rm -f $(DESTDIR)$(BINDIR)/$$(basename $$p) || exit 1; done
	for m in $(MAN1); do \
	    rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$m) || exit 1; done
	for m in $(MAN5); do \
	    rm -f $(DESTDIR)$(MANDIR)/man5/$$(basename $$m) || exit 1; done
	for m in $(MAN7); do \
	    rm -f $(DESTDIR)$(MANDIR)/man7/$$(basename $$m) || exit 1; done
	rm -rf $(DESTDIR)$(SHAREDIR)
	rm -f $(DESTDIR)$(SYSCONFDIR)/bt/bt.conf.example
	@d=$(DESTDIR)$(SYSCONFDIR)/bt; \
	if [ -d "$$d" ]; then \
	    if [ -z "$$(ls -A "$$d")" ]; then rmdir "$$d" || exit 1; \
	    else echo "make uninstall: kept $$d:" $$(ls -A "$$d") \
		"(the operator's configuration and secrets; remove them by hand)"; \
	    fi; \
	fi

clean: FRC
	rm -rf build $(B)/bt-*

FRC:
.PHONY: all build-deps deps check test san test-san fuzz lint demo bench campaigns install \
	render-cron install-cron uninstall-cron \
	uninstall clean FRC
