"""Build step of the wheel: compile the gettext catalogs (locales/*.po) into bot/locales/*.mo.

Everything else is in pyproject.toml. A development checkout compiles them with
`make compile-catalogs` into the same place.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


def compile_catalogs(target: Path) -> list[str]:
    """Write every locales/<lang>/LC_MESSAGES/messages.po as a .mo under `target`."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(Path("locales").glob("*/LC_MESSAGES/messages.po")):
        mo = target / po.relative_to("locales").with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parts[1])
        with mo.open("wb") as out:
            write_mo(out, catalog)
        written.append(str(mo))
    return written


class BuildWithCatalogs(build_py):
    """build_py that also compiles the catalogs into the built package."""

    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):  # editable: `make compile-catalogs`
            self._catalogs = compile_catalogs(Path(self.build_lib) / "bot" / "locales")

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return super().get_outputs(include_bytecode) + getattr(self, "_catalogs", [])


setup(cmdclass={"build_py": BuildWithCatalogs})
