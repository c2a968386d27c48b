"""The error summary at the top of a refused form: every problem in one list, each linking to its field."""

from dataclasses import dataclass

from django import template

register = template.Library()


@dataclass(frozen=True)
class Problem:
    message: str
    field_id: str = ""
    label: str = ""


def _form_problems(form, *, prefix: str = "") -> list[Problem]:
    problems = [Problem(message=str(message)) for message in form.non_field_errors()]
    for field in form:
        for message in field.errors:
            label = f"{prefix}{field.label}" if field.label else prefix.rstrip(": ")
            problems.append(Problem(message=str(message), field_id=field.id_for_label or "", label=label))
    return problems


def problems_of(*forms, item: str = "") -> list[Problem]:
    """The problems of the forms and formsets given, in page order. A formset's rows are named "<item> <n>"."""
    problems: list[Problem] = []
    for form in forms:
        if form is None or not getattr(form, "is_bound", False):
            continue
        if hasattr(form, "forms"):  # a formset
            problems.extend(Problem(message=str(message)) for message in form.non_form_errors())
            for number, row in enumerate(form.forms, start=1):
                problems.extend(_form_problems(row, prefix=f"{item} {number}: " if item else ""))
        else:
            problems.extend(_form_problems(form))
    return problems


@register.inclusion_tag("core/_error_summary.html")
def error_summary(*forms, item: str = "", name: str = "form") -> dict:
    """{% error_summary form formset item="Guest" name="booking" %}: nothing when every form given is valid."""
    return {"problems": problems_of(*forms, item=item), "name": name}
