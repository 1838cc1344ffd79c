"""Conference batch matching (SPEC §8): participants from a spreadsheet, affinities from the
matcher, the solver of ``matcher.scheduling``, plans kept in the database and edited by hand,
and the files organisers hand out.

- ``spreadsheet``: CSV/XLSX bytes as numbered rows; ``MAX_UPLOAD``.
- ``participants``: the columns of the participants file and reading it; ``template``: the
  template to fill in.
- ``settings``: the conference parameters, one model with the same limits everywhere.
- ``affinity``: how well pairs suit, the solver's instance, why two people meet.
- ``agenda``: one person's agenda (ICS, HTML, PDF); ``quality``: a plan's result in words.
- ``outputs``: the files of a plan, written as a whole folder.
- ``plans``: stored conferences: create, load, plan, the stored plan and its files.
- ``editing``: lock, move, remove, add, no-show, publish.
- ``batch``: from a file straight to a folder of files (the CLI).
- ``overview``: what the organisers' pages show of the stored conferences.
"""

from service.conference.affinity import AFFINITY_WEIGHTS, affinities, instance, why
from service.conference.agenda import Agenda, agenda_html, agenda_ics, agenda_pdf
from service.conference.batch import FileSchedule, schedule_file
from service.conference.editing import (
    add_meeting,
    change_meeting,
    move_meeting,
    no_show_and_replan,
    publish,
    record_no_show,
    remove_meeting,
    replan,
    set_locked,
)
from service.conference.outputs import (
    AGENDAS,
    MEETINGS_CSV,
    MEETINGS_XLSX,
    OUTPUTS,
    PAIRS_CSV,
    SUMMARY_HTML,
    SUMMARY_JSON,
    Plan,
    write_outputs,
)
from service.conference.overview import conference_list, pair_name, plan_view, slot_time
from service.conference.participants import (
    COLUMNS,
    SIDE_NAMES,
    SIDES,
    Column,
    Participant,
    parse_participants,
    read_participants,
    read_uploaded_participants,
)
from service.conference.plans import (
    ConferenceError,
    Loaded,
    NewConferenceError,
    Upload,
    agenda_of,
    create_conference,
    ensure_editable,
    load,
    new_conference,
    plan,
    plan_or_refuse,
    plan_stored,
    stored_agenda,
    stored_file,
    stored_files,
    stored_schedule,
)
from service.conference.quality import BOUND_TEXT, STATUS_TEXT, plan_text, quality_text, share_text
from service.conference.settings import (
    ConferenceSettings,
    ScheduleSettings,
    SettingsError,
    conference_settings,
    schedule_settings,
)
from service.conference.spreadsheet import MAX_UPLOAD, file_rows
from service.conference.template import template_csv, template_xlsx

__all__ = [
    "AFFINITY_WEIGHTS",
    "AGENDAS",
    "BOUND_TEXT",
    "COLUMNS",
    "MAX_UPLOAD",
    "MEETINGS_CSV",
    "MEETINGS_XLSX",
    "OUTPUTS",
    "PAIRS_CSV",
    "SIDES",
    "SIDE_NAMES",
    "STATUS_TEXT",
    "SUMMARY_HTML",
    "SUMMARY_JSON",
    "Agenda",
    "Column",
    "ConferenceError",
    "ConferenceSettings",
    "FileSchedule",
    "Loaded",
    "NewConferenceError",
    "Participant",
    "Plan",
    "ScheduleSettings",
    "SettingsError",
    "Upload",
    "add_meeting",
    "affinities",
    "agenda_html",
    "agenda_ics",
    "agenda_of",
    "agenda_pdf",
    "change_meeting",
    "conference_list",
    "conference_settings",
    "create_conference",
    "ensure_editable",
    "file_rows",
    "instance",
    "load",
    "move_meeting",
    "new_conference",
    "no_show_and_replan",
    "pair_name",
    "parse_participants",
    "plan",
    "plan_or_refuse",
    "plan_stored",
    "plan_view",
    "plan_text",
    "publish",
    "quality_text",
    "read_participants",
    "read_uploaded_participants",
    "record_no_show",
    "replan",
    "remove_meeting",
    "schedule_file",
    "schedule_settings",
    "set_locked",
    "share_text",
    "slot_time",
    "stored_agenda",
    "stored_file",
    "stored_files",
    "stored_schedule",
    "template_csv",
    "template_xlsx",
    "why",
    "write_outputs",
]
