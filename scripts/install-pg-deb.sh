#!/usr/bin/env bash
# scripts/install-pg-deb.sh MAJOR -- install PostgreSQL MAJOR (17, 19) from
# Debian's binary packages of a newer suite into a private root of its own,
# with what typed_cache's suites need: the server, client programs, server
# headers and PGXS, pg_regress, the isolation tester, the TAP modules,
# dblink, pg_walinspect, and pg_cron and pgTAP where Debian packages them.
# Prints the path of that installation's pg_config on stdout (and nothing
# else there); progress goes to stderr.  The same interface as
# scripts/build-pg.sh, which builds 18 from source.
#
# Where things come from:
#   17  Debian 13 (trixie, trixie-security)
#   19  Debian experimental (the PostgreSQL packages), unstable (libraries,
#       and the pgtap source: no pgTAP or pg_cron package exists for 19)
# These packages need a newer glibc than Debian 12's, so they are not
# installed with dpkg: they are unpacked (dpkg-deb -x) into the root
# together with their suite's own libc6 and the shared libraries they
# depend on (dependencies are followed through library packages only: no
# perl, debconf or postgresql-common), and every executable gets that
# root's dynamic loader and library path (patchelf).  pg_config relocates
# itself and reports paths under the root.  Two changes make the root fit
# PGXS on Debian 12: the JIT is dropped (llvmjit.so needs the suite's
# libLLVM, Makefile.global names its clang: with_llvm = no), and compiler
# flags that Debian 12's gcc does not know are removed from Makefile.global.
#
# apt is used with a private configuration (its own sources list, pins,
# lists, cache and an empty dpkg status under $TYPED_CACHE_PG_CACHE/deb-MAJOR):
# the machine's own apt sources, lists, pins and dpkg database are left
# untouched.  Only patchelf (and gcc and make, if missing) are installed on
# the system, from Debian 12.
#
# Reuse: the root is $TYPED_CACHE_PG_ROOT/MAJOR (default
# /opt/typed_cache-pg/MAJOR); a stamp file written last names the Debian
# version installed.  The index is refreshed at most once a day; while the
# suite offers the version the stamp names, the root is reused as it is.
# A newer version is downloaded and unpacked beside it, then replaces it;
# if the download fails (or the archive cannot be reached) the existing
# root is kept, with a warning.  Without a usable root the script fails.
# Run as root.
set -euo pipefail

usage() { echo "usage: $0 MAJOR   (17 or 19)" >&2; exit 2; }
[ $# -eq 1 ] || usage
major=$1

# The suites to take the packages from, the first one holding PostgreSQL
# itself (a security suite is read from the security mirror), and the suite
# whose pgtap source is built when there is no pgTAP package.
case "$major" in
	17) suites="trixie trixie-security" src_suite="" ;;
	19) suites="experimental unstable" src_suite=unstable ;;
	*)
		echo "install-pg-deb: no Debian suite is known to carry PostgreSQL $major binaries (15 comes from Debian 12, 18 from scripts/build-pg.sh)" >&2
		exit 2
		;;
esac
suites=${TYPED_CACHE_PG_SUITES:-$suites}
pg_suite=${suites%% *}

root=${TYPED_CACHE_PG_ROOT:-/opt/typed_cache-pg}
cache=${TYPED_CACHE_PG_CACHE:-/var/cache/typed_cache-pg}
prefix=$root/$major
stamp=$prefix/.typed_cache-build
aptdir=$cache/deb-$major
arch=$(dpkg --print-architecture)

log() { echo "install-pg-deb $major: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	echo "install-pg-deb: run as root (it writes $root and $cache)" >&2
	exit 1
fi

mkdir -p "$root" "$cache"
# One installation per major version at a time; a second caller waits and
# reuses it.
exec 9>"$cache/deb-$major.lock"
flock 9

# The packages from PostgreSQL's own source and the extensions, by name.
pg_packages="postgresql-$major postgresql-client-$major postgresql-server-dev-$major"
ext_packages="postgresql-$major-cron postgresql-$major-pgtap"

# install_deps PACKAGE...: install what is missing, from Debian 12 with the
# machine's own apt (waiting for another apt or dpkg to finish): patchelf,
# and gcc and make, with which the root's flags are checked and pgTAP built.
install_deps() {
	local p missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
			|| missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	log "installing from Debian 12:$missing"
	apt-get -o DPkg::Lock::Timeout=900 update -qq
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
		install -y -qq $missing >/dev/null
}

# apt_priv COMMAND ARGS...: apt-get or apt-cache with the private
# configuration: sources for $suites on the mirrors Debian 12's own entries
# use, PostgreSQL's packages pinned to $pg_suite (experimental is not chosen
# by default), own lists, cache and an empty dpkg status.
apt_priv() {
	local cmd=$1
	shift
	"$cmd" -q \
		-o Dir::Etc::SourceList="$aptdir/sources.list" \
		-o Dir::Etc::SourceParts="$aptdir/parts" \
		-o Dir::Etc::Preferences="$aptdir/preferences" \
		-o Dir::Etc::PreferencesParts="$aptdir/parts" \
		-o Dir::State::Lists="$aptdir/lists" \
		-o Dir::State::status="$aptdir/status" \
		-o Dir::Cache="$aptdir/cache" \
		-o APT::Sandbox::User=root \
		-o Acquire::Languages=none \
		-o APT::Architectures::="$arch" \
		"$@"
}

# apt_config: write the private configuration (from scratch each run: it
# is derived from the machine's Debian 12 entries and the suites above).
apt_config() {
	local mirror security s m keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	mirror=${TYPED_CACHE_DEBIAN_MIRROR:-$(apt-cache policy 2>/dev/null |
		awk '$3 == "bookworm/main" { print $2; exit }')}
	security=${TYPED_CACHE_DEBIAN_SECURITY_MIRROR:-$(apt-cache policy 2>/dev/null |
		awk '$3 == "bookworm-security/main" { print $2; exit }')}
	if [ -z "$mirror" ]; then
		echo "install-pg-deb: no Debian 12 (bookworm) mirror in the apt configuration; set TYPED_CACHE_DEBIAN_MIRROR" >&2
		return 1
	fi
	security=${security:-${mirror%/debian}/debian-security}
	mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$aptdir/parts"
	touch "$aptdir/status"
	{
		echo "# Written by typed_cache's scripts/install-pg-deb.sh (private: not the machine's apt)."
		for s in $suites; do
			case "$s" in *-security) m=$security ;; *) m=$mirror ;; esac
			echo "deb [signed-by=$keyring] $m $s main"
		done
		# pgTAP's source, for a version without a pgTAP package.
		[ -z "$src_suite" ] || echo "deb-src [signed-by=$keyring] $mirror $src_suite main"
	} > "$aptdir/sources.list"
	cat > "$aptdir/preferences" <<EOF
Package: $pg_packages $ext_packages libpq5
Pin: release n=$pg_suite
Pin-Priority: 990

Package: $pg_packages $ext_packages libpq5
Pin: release a=$pg_suite
Pin-Priority: 990
EOF
}

# refresh_index: apt-get update, at most once a day.
refresh_index() {
	if [ -z "$(find "$aptdir/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null)" ]; then
		log "apt-get update ($suites)"
		apt_priv apt-get update -qq >&2
	fi
}

# candidate PACKAGE: the version the private configuration would install.
candidate() {
	apt_priv apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }'
}

# closure PACKAGE...: PACKAGE... and what they depend on (Depends and
# Pre-Depends, the first of alternatives), followed through shared-library
# packages only.  Programs and data the root does not need (perl,
# postgresql-common, debconf, tzdata, clang and LLVM for the JIT and
# -dev packages) are left out; the loader falls back to Debian 12 for
# nothing the server loads.
closure() {
	local want=" $* " todo="$*" next p
	while [ -n "$todo" ]; do
		next=$(apt_priv apt-cache depends --no-recommends --no-suggests \
			--no-conflicts --no-breaks --no-replaces --no-enhances $todo 2>/dev/null |
			awk '/^[^ ]/ { alt = 0; next }
				/Depends:/ { if (!alt) print $2; alt = ($1 ~ /^\|/) }' | sort -u)
		todo=""
		for p in $next; do
			case "$p" in
				"<"* | *-perl | *-dev | *-bin | *-common | *-tools | *-utils | *-data) continue ;;
				libllvm* | libclang* | libpython* | libperl*) continue ;;
				lib* | zlib1g) ;;
				*) continue ;;
			esac
			case "$want" in *" $p "*) continue ;; esac
			want="$want$p "
			todo="$todo $p"
		done
	done
	echo $want
}

# fix_root DIR: point every executable in DIR at the loader and libraries
# of $prefix (where DIR is moved next), drop the JIT and fit Makefile.global
# to Debian 12's gcc.
fix_root() {
	local dir=$1 pglib=$1/usr/lib/postgresql/$major f n=0 mk flag out loader libdir
	# The suite's loader, in its multiarch library directory
	# (usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 on amd64).
	loader=$(cd "$dir" && ls usr/lib/*-linux-gnu*/ld-linux*.so.* 2>/dev/null | head -n 1)
	if [ -z "$loader" ]; then
		echo "install-pg-deb: no dynamic loader under $dir/usr/lib (libc6 missing?)" >&2
		return 1
	fi
	libdir=$(dirname "$loader")
	for f in "$pglib"/bin/* $(find "$pglib/lib/pgxs" -type f -perm -u+x); do
		if patchelf --print-interpreter "$f" >/dev/null 2>&1; then
			patchelf --set-interpreter "$prefix/$loader" --force-rpath \
				--set-rpath "$prefix/$libdir:$prefix/usr/lib/postgresql/$major/lib" "$f"
			n=$((n + 1))
		fi
	done
	log "patched $n executables"
	rm -f "$pglib/lib/llvmjit.so" "$pglib/lib/llvmjit_types.bc"
	rm -rf "$pglib/lib/bitcode"
	mk=$pglib/lib/pgxs/src/Makefile.global
	sed -i -e 's/^with_llvm[[:space:]]*=.*/with_llvm = no/' "$mk"
	# Warning options of the suite's gcc that Debian 12's gcc rejects.
	for flag in $(grep -E '^(CFLAGS|CXXFLAGS|CPPFLAGS)[[:space:]]*=' "$mk" | tr ' ' '\n' | grep -E '^-W[a-z]' | sort -u); do
		out=$(echo 'int tc_probe(void);' | LC_ALL=C gcc "$flag" -x c -c -o /dev/null - 2>&1 || true)
		if [[ $out == *"unrecognized command-line option"* ]]; then
			log "removing $flag from Makefile.global (gcc $(gcc -dumpversion) does not know it)"
			sed -i -e "/^\(CFLAGS\|CXXFLAGS\|CPPFLAGS\)[[:space:]]*=/s/[[:space:]]$flag\([[:space:]]\|\$\)/\1/g" "$mk"
		fi
	done
}

# build_pgtap DIR: pgTAP from Debian's source package, with PGXS against
# the root in DIR (for a version without a pgTAP package).
build_pgtap() {
	local dir=$1 src=$aptdir/src tarball
	rm -rf "$src"
	mkdir -p "$src"
	# Only the upstream tarball is used (the archive has been seen to answer
	# 404 for the .dsc and Debian diff while serving it).
	(cd "$src" && apt_priv apt-get source --download-only pgtap > "$src.log" 2>&1) || true
	tarball=$(ls "$src"/*.orig.tar.* 2>/dev/null | head -n 1 || true)
	if [ -z "$tarball" ]; then
		cat "$src.log" >&2
		echo "install-pg-deb: could not download the source of pgtap" >&2
		return 1
	fi
	mkdir "$src/build"
	tar -xf "$tarball" -C "$src/build" --strip-components=1
	{
		make -C "$src/build" PG_CONFIG="$dir/usr/lib/postgresql/$major/bin/pg_config"
		make -C "$src/build" PG_CONFIG="$dir/usr/lib/postgresql/$major/bin/pg_config" install
	} > "$src/build.log" 2>&1 || { tail -n 40 "$src/build.log" >&2; return 1; }
	log "pgtap built from $(basename "$tarball")"
	echo "$(basename "$tarball")"
	rm -rf "$src" "$src.log"
}

# install_root VERSION: download and unpack everything into a new
# directory beside $prefix, fix it, then put it in place (the executables
# name their loader by its final path) and check that it runs.
install_root() {
	local version=$1 start new debs packages ext p d pgtap_src=""
	start=$(date +%s)
	install_deps patchelf gcc make
	ext=""
	for p in $ext_packages; do
		[ -n "$(candidate "$p")" ] && ext="$ext $p"
	done
	log "resolving $pg_packages$ext"
	packages=$(closure $pg_packages $ext)
	new=$prefix.new
	debs=$aptdir/debs
	rm -rf "$new" "$debs"
	mkdir -p "$new" "$debs"
	log "downloading $(echo $packages | wc -w) packages"
	(cd "$debs" && apt_priv apt-get -qq download $packages >&2) || return 1
	for d in "$debs"/*.deb; do
		dpkg-deb -x "$d" "$new" || return 1
	done
	log "unpacked $(du -sm "$debs" | cut -f1) MB of packages ($(du -sm "$new" | cut -f1) MB)"
	fix_root "$new" || return 1
	rm -rf "$prefix"
	mv "$new" "$prefix"
	"$prefix/usr/lib/postgresql/$major/bin/postgres" --version >&2 || return 1
	case "$ext" in
		*-pgtap*) ;;
		*) pgtap_src=$(build_pgtap "$prefix") || return 1 ;;
	esac
	# Complete: stamp it last.
	{
		echo "postgresql-$major $version"
		echo "suites: $suites"
		echo "packages: $(cd "$debs" && ls *.deb | tr '\n' ' ')"
		[ -n "$pgtap_src" ] && echo "pgtap built from: $pgtap_src"
		echo "installed: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(($(date +%s) - start)) s"
	} > "$stamp"
	rm -rf "$debs"
	log "installed $version in $prefix in $(($(date +%s) - start)) s"
}

installed=""
if [ -f "$stamp" ] && [ -x "$prefix/usr/lib/postgresql/$major/bin/pg_config" ]; then
	installed=$(awk 'NR == 1 { print $2 }' "$stamp")
fi
want=""
if apt_config && refresh_index; then
	want=$(candidate "postgresql-$major")
fi
if [ -n "$installed" ] && { [ -z "$want" ] || [ "$want" = "$installed" ]; }; then
	[ -z "$want" ] && log "warning: postgresql-$major not found in $suites (index not readable?)"
	log "reusing $prefix ($installed)"
elif [ -z "$want" ]; then
	echo "install-pg-deb: postgresql-$major not found in $suites (or their index could not be downloaded)" >&2
	exit 1
elif ! install_root "$want"; then
	rm -rf "$prefix.new"
	if [ -z "$installed" ] || [ ! -f "$stamp" ]; then
		echo "install-pg-deb: could not install PostgreSQL $major ($want)" >&2
		exit 1
	fi
	log "warning: could not install $want; reusing $prefix ($installed)"
fi

echo "$prefix/usr/lib/postgresql/$major/bin/pg_config"
