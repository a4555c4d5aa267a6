#!/bin/sh
# Puts medseg_gui into this user's application menu; no root needed. Writes
# ${XDG_DATA_HOME:-~/.local/share}/applications/medseg-gui.desktop (from this folder's medseg-gui.desktop, with Exec
# and TryExec naming this folder's medseg-gui) and copies the icon to .../icons/hicolor/scalable/apps/medseg-gui.svg.
# Run it again after moving the folder (the entry names the old place; TryExec hides it from menus meanwhile).
#
#   ./install-menu-entry.sh               add or update the menu entry
#   ./install-menu-entry.sh --uninstall   remove the entry and the icon
set -eu

fail() { echo "install-menu-entry: $*" >&2; exit 1; }

HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
ENTRY=$DATA/applications/medseg-gui.desktop
ICON=$DATA/icons/hicolor/scalable/apps/medseg-gui.svg
EXE=$HERE/medseg-gui
TEMPLATE=$HERE/medseg-gui.desktop
ICON_SOURCE=$HERE/_internal/resources/icons/medseg-gui.svg

refresh() {  # menus notice the change by themselves; this makes some of them do it at once
    if command -v update-desktop-database > /dev/null 2>&1; then
        update-desktop-database -q "$DATA/applications" 2> /dev/null || true
    fi
}

case "${1:-}" in
    --uninstall)
        for file in "$ENTRY" "$ICON"; do
            if [ -e "$file" ]; then
                rm -f "$file"
                echo "removed $file"
            else
                echo "not there: $file"
            fi
        done
        refresh
        exit 0 ;;
    "") ;;
    -h | --help)
        sed -n '2,8s/^# \{0,1\}//p' "$0"
        exit 0 ;;
    *) fail "unknown argument '$1' (usage: $0 [--uninstall])" ;;
esac

[ -x "$EXE" ] || fail "$EXE not found: this script works from inside the medseg folder"
[ -f "$TEMPLATE" ] || fail "$TEMPLATE not found"
[ -f "$ICON_SOURCE" ] || fail "$ICON_SOURCE not found"
newline='
'
case $HERE in
    *\"* | *\`* | *\$* | *\\* | *"$newline"*)
        fail "the folder's path ($HERE) holds a character a menu entry cannot quote (\" \` \$ \\ or a line break);" \
            "move or rename the folder" ;;
esac
exec_path=$(printf '%s\n' "$EXE" | sed 's/%/%%/g')  # in Exec, % starts a field code

mkdir -p "$(dirname "$ENTRY")" "$(dirname "$ICON")"
{
    # true in the user's entry and in a copy an administrator puts in /usr/share/applications/ (packaging/README.md)
    echo "# Written for one user by \"$HERE/install-menu-entry.sh\", whose --uninstall removes that user's entry"
    echo "# ($ENTRY) and icon. A copy of this file elsewhere (/usr/share/applications/) is removed by deleting it."
    in_entry=no
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
            "[Desktop Entry]") in_entry=yes; echo "$line" ;;
            "#"*) [ "$in_entry" = yes ] && echo "$line" ;;
            Exec=*) printf 'Exec="%s" %%f\nTryExec=%s\n' "$exec_path" "$EXE" ;;
            TryExec=*) ;;
            *) echo "$line" ;;
        esac
    done < "$TEMPLATE"
} > "$ENTRY.tmp"
chmod 644 "$ENTRY.tmp"
mv -f "$ENTRY.tmp" "$ENTRY"
echo "wrote $ENTRY (Exec: \"$exec_path\" %f)"
cp -f "$ICON_SOURCE" "$ICON"
chmod 644 "$ICON"
echo "copied the icon to $ICON"
refresh
echo "medseg_gui is now in the application menu (it may take a moment to appear);" \
    "after moving this folder, run this script again"
