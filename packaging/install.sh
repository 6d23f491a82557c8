#!/bin/sh
# Install Forge Studio for this user (no root needed):
#   the app          ~/.local/opt/forge-studio/        ($FORGE_STUDIO_OPT to change)
#   the command      ~/.local/bin/studio               ($XDG_BIN_HOME)
#   desktop entry, icons (16–512 px PNG + SVG), MIME type of .forgespace archives and the
#   forge+wss: invite-link handler, AppStream metainfo   under $XDG_DATA_HOME (~/.local/share)
# Run it again to update; ~/.local/opt/forge-studio/uninstall.sh removes it all again
# (your spaces, in the data folder, are kept).
set -eu

HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
OPT_ROOT=${FORGE_STUDIO_OPT:-$HOME/.local/opt}
OPT=$OPT_ROOT/forge-studio
BIN=${XDG_BIN_HOME:-$HOME/.local/bin}
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
APP_ID=io.forgestudio.ForgeStudio

[ -x "$HERE/app/studio" ] || { echo "install.sh: $HERE/app/studio is missing; unpack the whole tarball" >&2; exit 1; }

mkdir -p "$OPT_ROOT" "$BIN" "$DATA/applications" "$DATA/icons" "$DATA/mime/packages" "$DATA/metainfo"

# the app: copied next to the old one, then swapped in
rm -rf "$OPT.new"
cp -R "$HERE/app" "$OPT.new"
cp "$HERE/uninstall.sh" "$OPT.new/uninstall.sh"
chmod +x "$OPT.new/uninstall.sh" "$OPT.new/studio"
rm -rf "$OPT.old"
[ ! -e "$OPT" ] || mv "$OPT" "$OPT.old"
mv "$OPT.new" "$OPT"
rm -rf "$OPT.old"

MANIFEST=$OPT/.installed-files
: > "$MANIFEST"
put() {  # put SRC DEST: copy one file and remember it for uninstall.sh
    mkdir -p "$(dirname -- "$2")"
    cp "$1" "$2"
    printf '%s\n' "$2" >> "$MANIFEST"
}

# the command on PATH
ln -sfn "$OPT/studio" "$BIN/studio"
printf '%s\n' "$BIN/studio" >> "$MANIFEST"

# the desktop entry, starting this copy by its full path (quoted as the spec asks)
quoted=$(printf '%s' "$OPT/studio" | sed 's/[\\"`$]/\\&/g')
desktop=$DATA/applications/$APP_ID.desktop
while IFS= read -r line; do
    case $line in
        Exec=*) printf 'Exec="%s" open %%u\n' "$quoted" ;;
        TryExec=*) printf 'TryExec=%s\n' "$OPT/studio" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$HERE/share/applications/$APP_ID.desktop" > "$desktop"
printf '%s\n' "$desktop" >> "$MANIFEST"

# icons, MIME type, metainfo
(cd "$HERE/share/icons" && find hicolor -type f) | while IFS= read -r icon; do
    put "$HERE/share/icons/$icon" "$DATA/icons/$icon"
done
put "$HERE/share/mime/packages/forge-studio.xml" "$DATA/mime/packages/forge-studio.xml"
put "$HERE/share/metainfo/$APP_ID.metainfo.xml" "$DATA/metainfo/$APP_ID.metainfo.xml"

# the desktop's caches, when its tools are there
if command -v update-mime-database >/dev/null 2>&1; then update-mime-database "$DATA/mime" >/dev/null 2>&1 || true; fi
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database "$DATA/applications" >/dev/null 2>&1 || true; fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t -f "$DATA/icons/hicolor" >/dev/null 2>&1 || true; fi
# double-click on a .forgespace file or an invite link opens Forge Studio
if command -v xdg-mime >/dev/null 2>&1; then
    xdg-mime default "$APP_ID.desktop" application/x-forgespace x-scheme-handler/forge+wss >/dev/null 2>&1 || true
fi

echo "Forge Studio is installed in $OPT"
case ":$PATH:" in
    *":$BIN:"*) echo "Start it from the applications menu or with: studio" ;;
    *) echo "Start it from the applications menu or with: $BIN/studio ($BIN is not on your PATH)" ;;
esac
echo "To remove it: $OPT/uninstall.sh"
