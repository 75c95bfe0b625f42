#!/usr/bin/env bash
# Install the unpacked dsdesk bundle for this user (no root needed):
#   the app folder       -> ${DSDESK_PREFIX:-~/.local/opt}/dsdesk
#   the `dsdesk` command -> ~/.local/bin/dsdesk (a link)
#   the menu entry       -> ${XDG_DATA_HOME:-~/.local/share}/applications/dsdesk.desktop
#   the app icon         -> ${XDG_DATA_HOME:-~/.local/share}/icons/hicolor/scalable/apps/dsdesk.svg
# Run it from the unpacked archive: ./dsdesk-<version>/install.sh
# ./install.sh --uninstall removes all four again.  Running it again upgrades in place.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
prefix="${DSDESK_PREFIX:-$HOME/.local/opt}"
bindir="${DSDESK_BINDIR:-$HOME/.local/bin}"
app="$prefix/dsdesk"
desktop="$data/applications/dsdesk.desktop"
svg="$data/icons/hicolor/scalable/apps/dsdesk.svg"

refresh_menus() {
    # Best effort: desktops also notice the files by themselves.
    if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$data/applications" || true; fi
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$app"
    rm -f "$desktop" "$svg"
    [ -L "$bindir/dsdesk" ] && rm -f "$bindir/dsdesk"
    refresh_menus
    echo "dsdesk: uninstalled (your catalogs in ${data}/dsdesk are kept)"
    exit 0
fi

if [ ! -x "$here/dsdesk" ] || [ ! -d "$here/_internal" ]; then
    echo "install.sh: run me from the unpacked dsdesk bundle (dsdesk and _internal/ beside me)" >&2
    exit 2
fi

mkdir -p "$prefix" "$bindir" "$(dirname "$desktop")" "$(dirname "$svg")"
# Copy into a fresh folder and swap it in, so an upgrade never leaves a half-copied app.
staging="$prefix/.dsdesk-installing"
rm -rf "$staging"
mkdir -p "$staging"
cp -a "$here/dsdesk" "$here/_internal" "$staging/"
cp "$here/dsdesk.svg" "$here/dsdesk.desktop" "$here/install.sh" "$staging/"
rm -rf "$app"
mv "$staging" "$app"
ln -sfn "$app/dsdesk" "$bindir/dsdesk"
cp "$here/dsdesk.svg" "$svg"
# The menu entry runs the installed binary by its full path: ~/.local/bin may not be on the
# PATH the desktop session started with.
sed -e "s|^Exec=.*|Exec=\"$app/dsdesk\"|" -e "s|^TryExec=.*||" "$here/dsdesk.desktop" > "$desktop"
chmod 644 "$desktop" "$svg"
refresh_menus
echo "dsdesk: installed in $app"
echo "  menu entry: $desktop"
echo "  command:    $bindir/dsdesk"
case ":$PATH:" in
    *":$bindir:"*) ;;
    *) echo "  note: $bindir is not on your PATH; add it to run 'dsdesk' from a terminal" ;;
esac
