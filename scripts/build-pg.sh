#!/usr/bin/env bash
# scripts/build-pg.sh MAJOR [pgmemcache] -- build PostgreSQL MAJOR (e.g. 18)
# from Debian's source package into an installation prefix of its own, with
# what typed_cache's suites need: TAP support, the isolation tester, dblink
# and pgTAP.  With "pgmemcache", also pgmemcache (only the cache benchmark
# uses it).  Prints the path of that installation's pg_config on stdout (and
# nothing else there); progress goes to stderr.
#
# Where things come from: Debian's unstable suite carries the source package
# postgresql-MAJOR (its tarball is the upstream one) and pgtap.  Binary
# packages from that suite do not install on Debian 12, so nothing is taken
# from it but sources, through a private apt configuration (a deb-src entry
# on the mirror the machine's own apt entries use, its own lists and cache):
# the system's apt sources, lists and pins are left untouched, and normal
# installs keep using Debian 12.  Build dependencies come from Debian 12.
#
# Reuse: an installation is kept under $TYPED_CACHE_PG_ROOT/MAJOR (default
# /opt/typed_cache-pg/MAJOR) and reused as long as it is complete (a stamp
# file written last names what was built); remove the directory to rebuild.
# Downloaded sources are kept under $TYPED_CACHE_PG_CACHE (default
# /var/cache/typed_cache-pg), outside the repository.  Run as root.
set -euo pipefail

usage() { echo "usage: $0 MAJOR [pgmemcache]   (for example: $0 18)" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
major=$1
extra=${2:-}
case "$extra" in "" | pgmemcache) ;; *) usage ;; esac
case "$major" in
	1[6-9] | [2-9][0-9]) ;;
	*) echo "build-pg: only PostgreSQL 16 and later are built from source; 15 comes from Debian 12's packages" >&2; exit 2 ;;
esac

root=${TYPED_CACHE_PG_ROOT:-/opt/typed_cache-pg}
cache=${TYPED_CACHE_PG_CACHE:-/var/cache/typed_cache-pg}
prefix=$root/$major
stamp=$prefix/.typed_cache-build
jobs=${JOBS:-$(nproc)}

log() { echo "build-pg $major: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	echo "build-pg: run as root (it installs build dependencies and writes $root)" >&2
	exit 1
fi

mkdir -p "$root" "$cache"
# One build per major version at a time; a second caller waits and reuses it.
exec 9>"$cache/build-$major.lock"
flock 9

# install_deps PACKAGE...: install what is missing, from Debian 12 (waiting
# for another apt or dpkg to finish).
install_deps() {
	local p missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
			|| missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	log "installing build dependencies:$missing"
	apt-get -o DPkg::Lock::Timeout=900 update -qq
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
		install -y -qq $missing >/dev/null
}

# apt_src ARGS...: apt-get with the private configuration: a deb-src entry
# for unstable on the mirror Debian 12's own entries use, and its own lists
# and cache.  The index is refreshed at most once a day.
aptdir=$cache/apt
apt_ready=
apt_src() {
	if [ -z "$apt_ready" ]; then
		local mirror=${TYPED_CACHE_DEBIAN_MIRROR:-$(apt-cache policy 2>/dev/null |
			awk '$3 == "bookworm/main" { print $2; exit }')}
		if [ -z "$mirror" ]; then
			echo "build-pg: no Debian 12 (bookworm) mirror in the apt configuration; set TYPED_CACHE_DEBIAN_MIRROR" >&2
			return 1
		fi
		mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$aptdir/parts"
		cat > "$aptdir/sources.list" <<EOF
# Written by typed_cache's scripts/build-pg.sh: sources only, never binaries.
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror unstable main
EOF
		apt_ready=1
		if [ -z "$(find "$aptdir/lists" -maxdepth 1 -name '*_Sources*' -mmin -1440 2>/dev/null)" ]; then
			log "apt-get update (deb-src $mirror unstable)"
			apt_src update -qq >&2
		fi
	fi
	apt-get -q \
		-o Dir::Etc::SourceList="$aptdir/sources.list" \
		-o Dir::Etc::SourceParts="$aptdir/parts" \
		-o Dir::State::Lists="$aptdir/lists" \
		-o Dir::Cache="$aptdir/cache" \
		-o APT::Sandbox::User=root \
		"$@"
}

# fetch_source PACKAGE: download PACKAGE's source into $cache/src/PACKAGE
# (reusing an earlier download) and print the path of its upstream tarball.
fetch_source() {
	local pkg=$1 dir=$cache/src/$1 tarball
	mkdir -p "$dir"
	tarball=$(ls "$dir"/*.orig.tar.* 2>/dev/null | head -n 1 || true)
	if [ -z "$tarball" ]; then
		log "downloading source package $pkg"
		# Only the upstream tarball is used; the archive has been seen to
		# answer 404 for a package's .dsc and Debian diff while serving its
		# tarball (apt checks the tarball against the signed index anyway).
		(cd "$dir" && apt_src source --download-only "$pkg" >&2) || true
		tarball=$(ls "$dir"/*.orig.tar.* 2>/dev/null | head -n 1 || true)
	fi
	if [ -z "$tarball" ]; then
		echo "build-pg: could not download the source of $pkg" >&2
		return 1
	fi
	echo "$tarball"
}

# build_extension NAME: build Debian's source package NAME with PGXS against
# the installation and install it there.
build_extension() {
	local pkg=$1 tarball dir=$cache/build/$1-$major
	tarball=$(fetch_source "$pkg") || return 1
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -xf "$tarball" -C "$dir" --strip-components=1
	log "$pkg ($(basename "$tarball"))"
	{
		make -C "$dir" PG_CONFIG="$prefix/bin/pg_config"
		make -C "$dir" PG_CONFIG="$prefix/bin/pg_config" install
	} > "$dir.log" 2>&1 || { tail -n 40 "$dir.log" >&2; return 1; }
	rm -rf "$dir" "$dir.log"
	echo "$(basename "$tarball")"
}

# build_postgresql: the server, client programs and test tools, then pgTAP.
build_postgresql() {
	local start tarball build=$cache/build/$major pgtap
	start=$(date +%s)
	install_deps make gcc bison flex libreadline-dev zlib1g-dev libicu-dev \
		pkg-config libipc-run-perl perl bzip2 xz-utils
	tarball=$(fetch_source "postgresql-$major") || return 1
	rm -rf "$build" "$prefix"
	mkdir -p "$build"
	log "extracting $(basename "$tarball")"
	tar -xf "$tarball" -C "$build" --strip-components=1
	log "configure --prefix=$prefix --enable-tap-tests"
	(cd "$build" && ./configure --prefix="$prefix" --enable-tap-tests \
		--with-icu --without-llvm) > "$build.configure.log" 2>&1 \
		|| { tail -n 40 "$build.configure.log" >&2; return 1; }
	log "make -j$jobs (minutes)"
	make -s -C "$build" -j"$jobs" > "$build.make.log" 2>&1 \
		|| { tail -n 40 "$build.make.log" >&2; return 1; }
	log "make install"
	{
		make -s -C "$build" install
		# pg_isolation_regress and isolationtester, the TAP modules for
		# PGXS, dblink (the regress suite uses it) and pg_walinspect (the
		# standby tests read typed_cache's WAL records with it).
		make -s -C "$build/src/test/isolation" install
		make -s -C "$build/src/test/perl" install
		make -s -C "$build/contrib/dblink" install
		make -s -C "$build/contrib/pg_walinspect" install
	} > "$build.install.log" 2>&1 || { tail -n 40 "$build.install.log" >&2; return 1; }
	rm -rf "$build" "$build".*.log
	pgtap=$(build_extension pgtap) || return 1
	# Complete: stamp it last.
	{
		"$prefix/bin/pg_config" --version
		echo "source: $(basename "$tarball"), $pgtap"
		echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(($(date +%s) - start)) s"
	} > "$stamp"
	log "installed in $prefix in $(($(date +%s) - start)) s"
}

# build_contrib NAME: one contrib module of the source, built with PGXS
# (for an installation made before the module was added to the list above)
build_contrib() {
	local tarball dir
	tarball=$(fetch_source "postgresql-$major") || return 1
	dir=$(mktemp -d)
	tar -xf "$tarball" -C "$dir" --strip-components=1 --wildcards "*/contrib/$1/*"
	make -s -C "$dir/contrib/$1" USE_PGXS=1 PG_CONFIG="$prefix/bin/pg_config" install \
		> "$dir.log" 2>&1 || { tail -n 40 "$dir.log" >&2; rm -rf "$dir" "$dir.log"; return 1; }
	rm -rf "$dir" "$dir.log"
	log "added contrib/$1"
}

if [ -f "$stamp" ] && [ -x "$prefix/bin/pg_config" ]; then
	log "reusing $prefix ($(head -n 1 "$stamp"))"
	if [ ! -e "$("$prefix/bin/pg_config" --sharedir)/extension/pg_walinspect.control" ]; then
		build_contrib pg_walinspect
	fi
else
	build_postgresql
fi

if [ "$extra" = pgmemcache ] && [ ! -e "$("$prefix/bin/pg_config" --pkglibdir)/pgmemcache.so" ]; then
	install_deps libmemcached-dev libsasl2-dev memcached
	build_extension pgmemcache >/dev/null
fi

echo "$prefix/bin/pg_config"
