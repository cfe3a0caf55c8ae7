# Two commands on a fresh machine with only Python:  make report   and   make test
# Each creates what it needs (virtual environment, packages, a CJK font for the charts, Debian's
# chromium for browser tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test venv browser fonts clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

# Headless Chromium (Debian's package) for the report rendering tests.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# A font with Chinese glyphs (Debian's WenQuanYi Micro Hei), found by fontconfig and registered
# with vl-convert (tierlib/rendering.py): the charts' static pictures show 星级, not boxes.
fonts:
	@fc-list :lang=zh file 2>/dev/null | grep -q . || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq fonts-wqy-microhei fontconfig >/dev/null; }

report: $(STAMP) fonts
	$(BIN)/tierlib report --out reports/latest --overwrite

test: $(STAMP) browser fonts
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider

# Removes the virtual environment only: report folders (reports/*/) may hold an analyst's
# work, and tierlib never deletes what it did not write.
clean:
	rm -rf $(VENV)
