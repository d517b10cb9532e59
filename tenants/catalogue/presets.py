"""Preset catalogues a new agency can start from, in English and Simplified
Chinese (chosen by the agency's language). Prices are starting points in the
agency's currency (pounds for English, yuan for Chinese agencies) to edit.

The categories follow the domain rules: daily living, health, personal care,
companionship, education, community activities; social work adds casework.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class PresetItem:
    name: dict[str, str]
    description: dict[str, str]
    included: dict[str, str]
    excluded: dict[str, str]
    checklist: dict[str, tuple[str, ...]]
    duration_minutes: int
    unit: str
    price: dict[str, Decimal]


@dataclass(frozen=True)
class PresetCategory:
    name: dict[str, str]
    items: tuple[PresetItem, ...]


@dataclass(frozen=True)
class PresetCertificate:
    """A certificate the preset suggests some roles must hold (valid) before
    they are given work: made a certificate type, and required of those roles
    (`StaffFile.staff_role`: carer, social_worker, coordinator)."""

    name: dict[str, str]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Preset:
    key: str
    title: dict[str, str]
    summary: dict[str, str]
    categories: tuple[PresetCategory, ...]
    certificates: tuple[PresetCertificate, ...] = ()

    def required_by_role(self, language: str) -> dict[str, list[str]]:
        """Role -> the names of the certificates the preset suggests it holds."""
        out: dict[str, list[str]] = {}
        for cert in self.certificates:
            for role in cert.roles:
                out.setdefault(role, []).append(cert.name[language])
        return out

    @property
    def item_count(self) -> int:
        return sum(len(c.items) for c in self.categories)


def _t(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


def _points(en: tuple[str, ...], zh: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {"en": en, "zh": zh}


def _price(gbp: str, cny: str) -> dict[str, Decimal]:
    return {"en": Decimal(gbp), "zh": Decimal(cny)}


# -- shared items -----------------------------------------------------------------------

HOUSEKEEPING = PresetItem(
    name=_t("Housekeeping", "居家保洁"),
    description=_t(
        "Light cleaning of the rooms the client uses every day.", "对服务对象日常使用的房间进行日常清洁。"
    ),
    included=_t(
        "Dusting, vacuuming or sweeping, mopping, kitchen surfaces, bathroom, taking out rubbish.",
        "除尘、吸尘或清扫、拖地、厨房台面、卫生间清洁、倒垃圾。",
    ),
    excluded=_t(
        "Deep cleaning, windows outside, moving heavy furniture, pets' waste.",
        "深度保洁、外墙窗户、搬动重家具、宠物粪便清理。",
    ),
    checklist=_points(
        (
            "Agreed rooms cleaned",
            "Kitchen surfaces wiped and dry",
            "Bathroom cleaned, floor dry (no slip risk)",
            "Rubbish taken out",
            "Client asked if satisfied",
        ),
        (
            "约定房间已清洁",
            "厨房台面擦净擦干",
            "卫生间已清洁，地面干燥无滑倒风险",
            "垃圾已带走",
            "已询问服务对象是否满意",
        ),
    ),
    duration_minutes=60,
    unit="per_hour",
    price=_price("24.00", "50.00"),
)
REPAIRS = PresetItem(
    name=_t("Minor home repairs", "居家小维修"),
    description=_t("Small repairs that keep the home safe.", "保障居家安全的小型维修。"),
    included=_t(
        "Changing bulbs, fixing handles and taps, fitting grab rails, checking smoke alarms.",
        "更换灯泡、修理把手和水龙头、安装扶手、检查烟雾报警器。",
    ),
    excluded=_t(
        "Gas, mains electrics and structural work (referred to licensed trades).",
        "燃气、强电及结构性工程（转介有资质的专业人员）。",
    ),
    checklist=_points(
        (
            "Hazard checked before starting",
            "Repair done and tested",
            "Work area left clean",
            "Anything unsafe reported",
        ),
        ("开工前已检查安全隐患", "维修完成并已测试", "作业区域已清理干净", "发现的不安全情况已上报"),
    ),
    duration_minutes=60,
    unit="per_visit",
    price=_price("35.00", "80.00"),
)
MEALS = PresetItem(
    name=_t("Meal delivery", "送餐上门"),
    description=_t("A hot meal delivered to the client's home.", "将热餐送到服务对象家中。"),
    included=_t(
        "Delivery, serving the meal, checking the client eats, noting appetite.",
        "送餐、摆放餐食、确认服务对象进食、记录食欲情况。",
    ),
    excluded=_t(
        "Cooking in the client's home, special diets not agreed in the plan.",
        "在服务对象家中烹饪、服务计划外的特殊膳食。",
    ),
    checklist=_points(
        (
            "Meal delivered warm and on time",
            "Diet restrictions respected",
            "Client seen eating or food stored safely",
            "Appetite noted",
        ),
        ("餐食准时送达且保温", "遵守饮食禁忌", "确认服务对象进食或餐食已妥善存放", "已记录食欲情况"),
    ),
    duration_minutes=20,
    unit="per_visit",
    price=_price("8.50", "15.00"),
)
SHOPPING = PresetItem(
    name=_t("Shopping delivery", "代购送货"),
    description=_t("Buying and delivering groceries and daily necessities.", "代购并送达食品杂货及日用品。"),
    included=_t(
        "Shopping from the client's list, delivery, putting items away, receipt and change returned.",
        "按清单代购、送货上门、物品归位、交还收据及找零。",
    ),
    excluded=_t(
        "Buying alcohol, tobacco or medicines without a prescription.", "代购烟酒或非处方以外的药品。"
    ),
    checklist=_points(
        (
            "Everything on the list bought or noted as unavailable",
            "Receipt and change handed over and counted",
            "Chilled food put in the fridge",
        ),
        ("清单物品已购齐或注明缺货", "收据与找零当面点清交还", "冷藏食品已放入冰箱"),
    ),
    duration_minutes=60,
    unit="per_visit",
    price=_price("18.00", "30.00"),
)
HEALTH_ADVICE = PresetItem(
    name=_t("Health advice", "健康咨询"),
    description=_t("Advice on healthy living and on using health services.", "健康生活及就医指导。"),
    included=_t(
        "Blood pressure and weight check, advice, written notes for the client.",
        "测量血压和体重、健康指导、为服务对象留下书面要点。",
    ),
    excluded=_t("Diagnosis and prescribing (referred to a doctor).", "诊断和开药（转介医生）。"),
    checklist=_points(
        (
            "Readings taken and recorded",
            "Advice explained in plain words",
            "Warning signs referred the same day",
        ),
        ("已测量并记录数值", "用通俗语言讲解建议", "危险信号当天转介"),
    ),
    duration_minutes=30,
    unit="per_visit",
    price=_price("20.00", "40.00"),
)
MEDICATION = PresetItem(
    name=_t("Medication reminders", "用药提醒"),
    description=_t("Prompting the client to take medicines as prescribed.", "提醒服务对象按医嘱服药。"),
    included=_t(
        "Prompting, checking the blister pack or box, recording what was taken.",
        "提醒服药、核对药盒、记录服药情况。",
    ),
    excluded=_t("Giving injections, changing doses.", "注射、调整剂量。"),
    checklist=_points(
        (
            "Right medicine, right time, as on the prescription",
            "Taken, refused or missed: recorded",
            "Supply running low reported",
        ),
        ("药品和时间与医嘱一致", "已服、拒服或漏服均有记录", "药品将用完时已上报"),
    ),
    duration_minutes=15,
    unit="per_visit",
    price=_price("10.00", "20.00"),
)
CHRONIC = PresetItem(
    name=_t("Chronic-disease support", "慢病管理支持"),
    description=_t(
        "Regular support for living with diabetes, hypertension and other long-term conditions.",
        "为糖尿病、高血压等慢性病患者提供定期支持。",
    ),
    included=_t(
        "Monitoring, diet and exercise coaching, liaison with the family doctor.",
        "指标监测、饮食运动指导、与家庭医生沟通。",
    ),
    excluded=_t("Treatment decisions.", "治疗决策。"),
    checklist=_points(
        (
            "Readings compared with targets",
            "Self-care plan reviewed with the client",
            "Doctor informed of anything outside the range",
        ),
        ("指标与目标值对比", "与服务对象回顾自我照护计划", "异常情况已告知医生"),
    ),
    duration_minutes=45,
    unit="per_visit",
    price=_price("28.00", "60.00"),
)
REHAB = PresetItem(
    name=_t("Rehabilitation exercises", "康复训练"),
    description=_t("Guided exercises from the client's rehabilitation plan.", "按康复计划指导进行训练。"),
    included=_t("Warm-up, the planned exercises, progress notes.", "热身、计划内训练项目、进展记录。"),
    excluded=_t("Exercises not in the therapist's plan.", "康复师计划以外的训练。"),
    checklist=_points(
        ("Exercises done as in the plan", "Pain or dizziness asked about", "Progress recorded"),
        ("按计划完成训练", "询问疼痛或头晕情况", "已记录进展"),
    ),
    duration_minutes=45,
    unit="per_visit",
    price=_price("32.00", "70.00"),
)
BATHING = PresetItem(
    name=_t("Bathing assistance", "助浴服务"),
    description=_t("Helping the client to wash, shower or bathe safely.", "协助服务对象安全洗浴。"),
    included=_t(
        "Preparing the bathroom, help washing and drying, skin check.", "准备浴室、协助清洗擦干、皮肤检查。"
    ),
    excluded=_t("Wound care.", "伤口护理。"),
    checklist=_points(
        (
            "Water temperature checked",
            "Non-slip mat in place",
            "Client's dignity and privacy kept",
            "Skin checked for redness or sores",
        ),
        ("已测试水温", "防滑垫已放好", "维护服务对象的尊严和隐私", "已检查皮肤有无发红或压疮"),
    ),
    duration_minutes=45,
    unit="per_visit",
    price=_price("30.00", "60.00"),
)
DRESSING = PresetItem(
    name=_t("Dressing and grooming", "穿衣与个人修饰"),
    description=_t("Help with dressing, hair, shaving and nails.", "协助穿衣、梳头、剃须和修剪指甲。"),
    included=_t(
        "Choosing clothes with the client, dressing, grooming.",
        "与服务对象一起挑选衣物、协助穿衣、修饰仪容。",
    ),
    excluded=_t("Hairdressing, podiatry.", "美发、足病治疗。"),
    checklist=_points(
        (
            "Client chose their clothes",
            "Dressed comfortably for the weather",
            "Grooming done as the client likes",
        ),
        ("衣物由服务对象自主选择", "穿着舒适且适合天气", "按服务对象喜好完成修饰"),
    ),
    duration_minutes=30,
    unit="per_visit",
    price=_price("20.00", "40.00"),
)
MOBILITY = PresetItem(
    name=_t("Mobility and transfers", "移动与转移协助"),
    description=_t(
        "Safe help moving between bed, chair, toilet and around the home.",
        "协助在床、椅、马桶之间及室内安全移动。",
    ),
    included=_t("Transfers with the agreed aids, walking support.", "使用约定辅具转移、搀扶行走。"),
    excluded=_t("Lifting without an aid when the plan requires one.", "计划要求使用辅具时徒手搬抬。"),
    checklist=_points(
        ("Aids checked before use", "Transfer done with the agreed technique", "Falls risk noted"),
        ("使用前已检查辅具", "按约定方法完成转移", "已记录跌倒风险"),
    ),
    duration_minutes=30,
    unit="per_visit",
    price=_price("22.00", "45.00"),
)
COMPANIONSHIP = PresetItem(
    name=_t("Companionship visit", "陪伴探访"),
    description=_t("Time together: conversation, reading, games, a walk.", "陪伴聊天、读报、游戏、散步。"),
    included=_t(
        "Activities the client enjoys, noticing changes in mood.", "服务对象喜欢的活动，留意情绪变化。"
    ),
    excluded=_t("Personal care, housework.", "生活照料、家务。"),
    checklist=_points(
        ("Activity chosen with the client", "Mood and any worries noted", "Next visit confirmed"),
        ("活动由服务对象选择", "已记录情绪及担忧", "已确认下次探访时间"),
    ),
    duration_minutes=60,
    unit="per_hour",
    price=_price("20.00", "35.00"),
)
ESCORT = PresetItem(
    name=_t("Escort to appointments", "陪同就医外出"),
    description=_t(
        "Accompanying the client to the doctor, hospital or errands.", "陪同服务对象就医或外出办事。"
    ),
    included=_t(
        "Travel with the client, waiting, helping communicate, notes for the family.",
        "陪同往返、等候、协助沟通、为家属记录要点。",
    ),
    excluded=_t(
        "Driving in the carer's own car unless agreed, making medical decisions.",
        "未经约定使用护理员私家车接送、代做医疗决定。",
    ),
    checklist=_points(
        (
            "Appointment time and documents checked",
            "Client accompanied both ways",
            "Outcome noted for the family",
        ),
        ("已核对预约时间和证件材料", "全程往返陪同", "已为家属记录结果"),
    ),
    duration_minutes=120,
    unit="per_hour",
    price=_price("22.00", "40.00"),
)
OLDER_CLASSES = PresetItem(
    name=_t("Classes for older people", "老年课堂"),
    description=_t(
        "Group classes: smartphones, calligraphy, exercise, health.",
        "小组课程：智能手机、书法、健身、健康知识。",
    ),
    included=_t("Teaching, materials, attendance record.", "授课、教材、考勤记录。"),
    excluded=_t("Transport to the class.", "往返交通。"),
    checklist=_points(
        ("Attendance taken", "Everyone could see and hear", "Feedback collected at the end"),
        ("已签到考勤", "每位学员都能看清听清", "课后收集反馈"),
    ),
    duration_minutes=90,
    unit="per_visit",
    price=_price("6.00", "10.00"),
)
CHILD_CARE = PresetItem(
    name=_t("After-school child care", "课后托管"),
    description=_t("Supervision, homework help and a snack after school.", "放学后看护、作业辅导及点心。"),
    included=_t(
        "Collection from school, homework help, play, hand-over to a parent.",
        "接送放学、作业辅导、游戏、交接给家长。",
    ),
    excluded=_t("Tutoring for exams, overnight care.", "应试补习、过夜看护。"),
    checklist=_points(
        ("Child signed in and out", "Handed over only to an authorised adult", "Homework checked"),
        ("儿童签到签退", "只交接给授权成人", "作业已检查"),
    ),
    duration_minutes=180,
    unit="per_visit",
    price=_price("15.00", "30.00"),
)
GROUP_ACTIVITY = PresetItem(
    name=_t("Group activity for older people", "长者小组活动"),
    description=_t("A regular social activity at the community centre.", "在社区中心定期举办的社交活动。"),
    included=_t("Planning, running the activity, tea, attendance.", "策划、组织活动、茶点、考勤。"),
    excluded=_t("Outings away from the centre.", "中心以外的外出活动。"),
    checklist=_points(
        ("Venue checked for safety", "Attendance taken", "Everyone included", "Feedback collected"),
        ("场地已做安全检查", "已签到考勤", "关注每位参与者", "已收集反馈"),
    ),
    duration_minutes=120,
    unit="per_visit",
    price=_price("5.00", "0.00"),
)
COMMUNITY_EVENT = PresetItem(
    name=_t("Community event", "社区节庆活动"),
    description=_t("A festival or open day for residents.", "面向居民的节庆或开放日活动。"),
    included=_t(
        "Planning, volunteers, safety plan, report afterwards.", "策划、志愿者安排、安全预案、活动总结。"
    ),
    excluded=_t("Catering beyond light refreshments.", "简单茶点以外的餐饮。"),
    checklist=_points(
        ("Safety plan and first aider in place", "Number of residents counted", "Photos and report filed"),
        ("安全预案和急救人员到位", "已统计参与居民人数", "照片及总结已归档"),
    ),
    duration_minutes=240,
    unit="per_visit",
    price=_price("0.00", "0.00"),
)
HEALTH_TALK = PresetItem(
    name=_t("Health talk", "健康讲座"),
    description=_t("A talk by a health professional for residents.", "由医务人员为居民举办的健康讲座。"),
    included=_t("Speaker, venue, handouts, questions.", "讲者、场地、资料、答疑。"),
    excluded=_t("Individual consultations.", "个人诊疗。"),
    checklist=_points(
        (
            "Speaker's qualification checked",
            "Handouts in plain language",
            "Attendance and questions recorded",
        ),
        ("已核实讲者资质", "资料通俗易懂", "已记录出席人数及提问"),
    ),
    duration_minutes=90,
    unit="per_visit",
    price=_price("0.00", "0.00"),
)
CANTEEN = PresetItem(
    name=_t("Community canteen meal", "社区助餐"),
    description=_t("A low-cost meal at the community canteen.", "社区食堂提供的平价餐食。"),
    included=_t(
        "A balanced meal, help to the table for those who need it.", "营养均衡的餐食，为有需要者协助就座。"
    ),
    excluded=_t("Home delivery (see meal delivery).", "送餐上门（见送餐服务）。"),
    checklist=_points(
        ("Food safety checks done", "Special diets labelled", "Number of meals recorded"),
        ("已完成食品安全检查", "特殊膳食已标识", "已记录就餐人数"),
    ),
    duration_minutes=45,
    unit="per_visit",
    price=_price("4.50", "12.00"),
)

# -- social work ------------------------------------------------------------------------

INTAKE = PresetItem(
    name=_t("Intake and needs assessment", "接案与需求评估"),
    description=_t(
        "First meeting: the request, the client's situation and needs across the assessment domains.",
        "首次会谈：了解求助事项、服务对象状况及各评估维度的需求。",
    ),
    included=_t("Interview, assessment form, agreeing next steps.", "面谈、评估表、商定后续安排。"),
    excluded=_t("Crisis intervention (a separate item).", "危机介入（另列项目）。"),
    checklist=_points(
        (
            "Consent and confidentiality explained",
            "Every assessment domain covered",
            "Risks noted",
            "Next steps agreed with the client",
        ),
        ("已说明知情同意和保密原则", "各评估维度均已覆盖", "已记录风险", "已与服务对象商定下一步"),
    ),
    duration_minutes=90,
    unit="per_visit",
    price=_price("45.00", "150.00"),
)
CASEWORK = PresetItem(
    name=_t("Individual casework session", "个案辅导"),
    description=_t(
        "A planned session working towards the goals of the service plan.", "围绕服务计划目标开展的个案会谈。"
    ),
    included=_t("Session, case notes, progress against goals.", "会谈、个案记录、目标进展评估。"),
    excluded=_t("Therapy that needs a clinical licence.", "需临床执照的治疗。"),
    checklist=_points(
        ("Goal of the session stated", "Progress recorded against the plan", "Follow-up date set"),
        ("已明确本次会谈目标", "已对照计划记录进展", "已约定跟进时间"),
    ),
    duration_minutes=60,
    unit="per_visit",
    price=_price("40.00", "120.00"),
)
FOLLOW_UP = PresetItem(
    name=_t("Follow-up visit", "回访"),
    description=_t(
        "A follow-up after the case is closed (1 week, 2 weeks, 1 month, 2 months).",
        "结案后回访（1周、2周、1个月、2个月）。",
    ),
    included=_t(
        "Visit or call, checking whether new help is needed.", "上门或电话回访，评估是否需要再次介入。"
    ),
    excluded=_t("New casework (re-open the case).", "新的个案服务（需重新开案）。"),
    checklist=_points(
        (
            "Client's situation since closure asked",
            "Need for new intervention decided",
            "Follow-up recorded in the case file",
        ),
        ("已了解结案后的状况", "已判断是否需要再次介入", "回访已记入个案档案"),
    ),
    duration_minutes=30,
    unit="per_visit",
    price=_price("20.00", "60.00"),
)
FAMILY = PresetItem(
    name=_t("Family counselling", "家庭辅导"),
    description=_t("A session with the client and their family.", "与服务对象及其家庭成员共同会谈。"),
    included=_t("Session, agreed family actions, notes.", "会谈、商定家庭行动、记录。"),
    excluded=_t("Legal advice.", "法律咨询。"),
    checklist=_points(
        ("Everyone had a chance to speak", "Agreed actions written down", "Safety concerns escalated"),
        ("每位成员都有发言机会", "商定事项已书面记录", "安全隐患已上报"),
    ),
    duration_minutes=90,
    unit="per_visit",
    price=_price("55.00", "180.00"),
)
NETWORK = PresetItem(
    name=_t("Support network meeting", "支持网络会议"),
    description=_t(
        "Bringing together the people and services around the client.", "召集服务对象身边的亲友及相关服务方。"
    ),
    included=_t("Organising, chairing, minutes, actions.", "组织、主持、会议纪要、行动分工。"),
    excluded=_t("Transport for participants.", "参会人员交通。"),
    checklist=_points(
        ("Client agreed to who attends", "Actions have owners and dates", "Minutes shared"),
        ("参会人员经服务对象同意", "行动事项有负责人和期限", "纪要已分发"),
    ),
    duration_minutes=90,
    unit="per_visit",
    price=_price("50.00", "150.00"),
)
EMOTIONAL = PresetItem(
    name=_t("Emotional support session", "情绪支持"),
    description=_t(
        "Listening and support for anxiety, low mood or grief.", "针对焦虑、情绪低落或哀伤的倾听与支持。"
    ),
    included=_t("Session, coping plan, referral when needed.", "会谈、应对计划、必要时转介。"),
    excluded=_t("Psychiatric treatment.", "精神科治疗。"),
    checklist=_points(
        ("Risk of harm asked about", "Coping plan agreed", "Referral made if needed"),
        ("已询问自伤或伤人风险", "已商定应对计划", "必要时已转介"),
    ),
    duration_minutes=60,
    unit="per_visit",
    price=_price("40.00", "120.00"),
)
CRISIS = PresetItem(
    name=_t("Crisis intervention", "危机介入"),
    description=_t(
        "Immediate response to a crisis: safety first, then a plan.",
        "对危机事件的即时响应：先保安全，再定计划。",
    ),
    included=_t(
        "Safety assessment, immediate support, contacting emergency services, debrief.",
        "安全评估、即时支持、联络紧急服务、事后复盘。",
    ),
    excluded=_t("Medical treatment.", "医疗救治。"),
    checklist=_points(
        ("Immediate safety secured", "Supervisor informed at once", "Incident report written the same day"),
        ("已确保即时安全", "已第一时间报告督导", "当天完成事件报告"),
    ),
    duration_minutes=120,
    unit="per_visit",
    price=_price("0.00", "0.00"),
)
LIFE_SKILLS = PresetItem(
    name=_t("Life skills class", "生活技能小组"),
    description=_t(
        "Group class on budgeting, cooking, using services.", "理财、烹饪、办事等生活技能小组课程。"
    ),
    included=_t("Teaching, practice, materials.", "讲授、练习、教材。"),
    excluded=_t("Individual coaching.", "个别辅导。"),
    checklist=_points(
        ("Attendance taken", "Everyone practised the skill", "Feedback collected"),
        ("已签到考勤", "每位组员都进行了练习", "已收集反馈"),
    ),
    duration_minutes=90,
    unit="per_visit",
    price=_price("8.00", "20.00"),
)
PARENTING = PresetItem(
    name=_t("Parenting workshop", "亲职教育工作坊"),
    description=_t("Workshop for parents and carers of children.", "面向家长及儿童照顾者的工作坊。"),
    included=_t("Workshop, handouts, questions.", "工作坊、资料、答疑。"),
    excluded=_t("Individual family casework.", "家庭个案服务。"),
    checklist=_points(
        ("Attendance taken", "Handouts given", "Concerns about a child's safety escalated"),
        ("已签到考勤", "已发放资料", "涉及儿童安全的问题已上报"),
    ),
    duration_minutes=120,
    unit="per_visit",
    price=_price("10.00", "30.00"),
)

# -- the certificates each kind of agency usually asks of its staff ---------------------------

FIRST_AID = PresetCertificate(_t("First aid", "急救证"), ("carer", "social_worker", "coordinator"))
HEALTH_CERTIFICATE = PresetCertificate(_t("Health certificate", "健康证"), ("carer",))
CARE_WORKER = PresetCertificate(
    _t("Elderly care worker qualification", "养老护理员职业技能等级证书"), ("carer",)
)
SOCIAL_WORKER = PresetCertificate(
    _t("Social worker qualification", "社会工作者职业资格证书"), ("social_worker", "coordinator")
)
FOOD_HANDLING = PresetCertificate(_t("Food handling", "食品安全培训合格证"), ("carer",))

PRESETS: dict[str, Preset] = {
    "home_care": Preset(
        key="home_care",
        title=_t("Home care", "居家照护"),
        summary=_t(
            "Daily living, health, personal care and companionship at home.",
            "居家生活照料、健康服务、个人护理与陪伴。",
        ),
        categories=(
            PresetCategory(_t("Daily living", "生活照料"), (HOUSEKEEPING, REPAIRS, MEALS, SHOPPING)),
            PresetCategory(_t("Health", "健康服务"), (HEALTH_ADVICE, MEDICATION, CHRONIC, REHAB)),
            PresetCategory(_t("Personal care", "个人护理"), (BATHING, DRESSING, MOBILITY)),
            PresetCategory(_t("Companionship", "陪伴服务"), (COMPANIONSHIP, ESCORT)),
        ),
        certificates=(CARE_WORKER, HEALTH_CERTIFICATE, FIRST_AID),
    ),
    "social_work": Preset(
        key="social_work",
        title=_t("Social work", "社会工作"),
        summary=_t(
            "Casework from intake to follow-up, family and psychological support, groups.",
            "从接案到回访的个案服务、家庭与心理支持、小组服务。",
        ),
        categories=(
            PresetCategory(_t("Casework", "个案服务"), (INTAKE, CASEWORK, FOLLOW_UP)),
            PresetCategory(_t("Family and support network", "家庭与支持网络"), (FAMILY, NETWORK)),
            PresetCategory(_t("Psychological support", "心理支持"), (EMOTIONAL, CRISIS)),
            PresetCategory(_t("Education", "教育服务"), (LIFE_SKILLS, PARENTING)),
        ),
        certificates=(SOCIAL_WORKER, FIRST_AID),
    ),
    "community_service": Preset(
        key="community_service",
        title=_t("Community service", "社区服务"),
        summary=_t(
            "Community activities, classes, health events and the community canteen.",
            "社区活动、课堂、健康活动与社区助餐。",
        ),
        categories=(
            PresetCategory(_t("Community activities", "社区活动"), (GROUP_ACTIVITY, COMMUNITY_EVENT)),
            PresetCategory(_t("Education", "教育服务"), (OLDER_CLASSES, CHILD_CARE)),
            PresetCategory(_t("Health", "健康服务"), (HEALTH_TALK, HEALTH_ADVICE)),
            PresetCategory(_t("Daily living", "生活照料"), (CANTEEN, MEALS, REPAIRS)),
        ),
        certificates=(FIRST_AID, FOOD_HANDLING),
    ),
}
