package main

import "github.com/insieme/insieme/internal/insieme"

// demoForums is the demo's content: four territorial forums of Puglia.
func demoForums() []demoForum {
	return []demoForum{
		{
			city: "San Severo", territory: "Provincia di Foggia",
			title: insieme.Texts{"it": "Forum territoriale di San Severo", "fr": "Forum territorial de San Severo", "en": "San Severo territorial forum"},
			staff: [2]string{"ufficio.sociale@sansevero.demo", "Ufficio politiche sociali"},
			associations: map[string][]string{
				"Braccianti Uniti": {"awa@braccianti.demo", "moussa@braccianti.demo", "ibrahima@braccianti.demo"},
				"Donne del Mondo":  {"fatima@donne.demo", "elira@donne.demo"},
			},
			proposals: []demoProposal{
				{author: "awa@braccianti.demo", org: "Braccianti Uniti", lang: "fr", category: "work",
					title:        "Un bus du matin pour les ouvriers agricoles",
					body:         "Chaque matin, des centaines de travailleurs marchent **plus de 8 km** le long de routes sans trottoir pour rejoindre les champs.\n\nNous proposons une navette à 5h30 entre la gare et la zone agricole, d'avril à octobre.",
					translations: map[string][2]string{"it": {"Un autobus all'alba per i braccianti", "Ogni mattina centinaia di lavoratori camminano **più di 8 km** lungo strade senza marciapiede per raggiungere i campi.\n\nProponiamo una navetta alle 5:30 tra la stazione e la zona agricola, da aprile a ottobre."}},
					supporters:   []string{"moussa@braccianti.demo", "ibrahima@braccianti.demo", "fatima@donne.demo", "elira@donne.demo", "giulia@cittadini.demo"},
					comments: [][3]string{{"giulia@cittadini.demo", "Le aziende agricole potrebbero contribuire ai costi.", insieme.StanceFor},
						{"moussa@braccianti.demo", "Serve anche una fermata al centro di accoglienza.", insieme.StanceNeutral}},
					answer: [2]string{insieme.ProposalAccepted, "La navetta partirà in via sperimentale dal 1° aprile, in accordo con la Regione. Seguiranno aggiornamenti sugli orari."}},
				{author: "fatima@donne.demo", org: "Donne del Mondo", lang: "ar", category: "health",
					title:        "مُبَادَرَة: ساعات استقبال للنساء في المركز الصحي",
					body:         "نقترح ساعات استقبال مخصصة للنساء مع وسيطة ثقافية تتحدث العربية مرتين في الأسبوع.",
					translations: map[string][2]string{"it": {"Orari dedicati alle donne nel consultorio", "Proponiamo orari dedicati alle donne, con una mediatrice culturale che parla arabo, due volte a settimana."}},
					supporters:   []string{"elira@donne.demo", "awa@braccianti.demo"},
					answer:       [2]string{insieme.ProposalEvaluation, "La ASL sta valutando la disponibilità di mediatrici per il consultorio."}},
			},
		},
		{
			city: "Nardò", territory: "Provincia di Lecce",
			title: insieme.Texts{"it": "Forum di Nardò: accoglienza e lavoro", "en": "Nardò forum: welcome and work"},
			staff: [2]string{"segreteria@nardo.demo", "Segreteria del Sindaco"},
			associations: map[string][]string{
				"Diritti a Sud": {"kofi@dirittiasud.demo", "amadou@dirittiasud.demo"},
			},
			proposals: []demoProposal{
				{author: "kofi@dirittiasud.demo", org: "Diritti a Sud", lang: "en", category: "housing",
					title:        "Decent housing during the harvest season",
					body:         "Every summer workers sleep in informal camps. We ask the municipality to open the former school building as temporary housing, managed with the associations.",
					translations: map[string][2]string{"it": {"Alloggi dignitosi durante la raccolta", "Ogni estate i lavoratori dormono in campi informali. Chiediamo al Comune di aprire l'ex edificio scolastico come alloggio temporaneo, gestito con le associazioni."}},
					supporters:   []string{"amadou@dirittiasud.demo", "giulia@cittadini.demo"},
					comments:     [][3]string{{"marco@cittadini.demo", "L'edificio ha bisogno di lavori prima di essere usato.", insieme.StanceAgainst}}},
			},
		},
		{
			city: "Turi", territory: "Città Metropolitana di Bari",
			title: insieme.Texts{"it": "Forum di Turi", "sq": "Forumi i Turit"},
			staff: [2]string{"servizi@turi.demo", "Servizi alla persona"},
			associations: map[string][]string{
				"Shqiponja APS": {"arben@shqiponja.demo", "mirela@shqiponja.demo"},
			},
			proposals: []demoProposal{
				{author: "arben@shqiponja.demo", org: "Shqiponja APS", lang: "sq", category: "school",
					title:        "Kurs italishteje për prindërit pasdite",
					body:         "Shumë prindër punojnë në mëngjes. Propozojmë një kurs italishteje falas pasdite në shkollën fillore, me kujdes për fëmijët gjatë mësimit.",
					translations: map[string][2]string{"it": {"Corso di italiano pomeridiano per i genitori", "Molti genitori lavorano la mattina. Proponiamo un corso di italiano gratuito il pomeriggio nella scuola primaria, con sorveglianza dei bambini durante la lezione."}},
					supporters:   []string{"mirela@shqiponja.demo", "giulia@cittadini.demo", "marco@cittadini.demo"},
					answer:       [2]string{insieme.ProposalImplemented, "Il corso è attivo dal martedì e dal giovedì, ore 17-19, nella scuola Don Milani."}},
			},
		},
		{
			city: "Bari", territory: "Città Metropolitana di Bari",
			title:    insieme.Texts{"it": "Forum cittadino di Bari", "ro": "Forumul orașului Bari", "fr": "Forum de la ville de Bari"},
			staff:    [2]string{"partecipazione@bari.demo", "Ufficio partecipazione"},
			workshop: barWorkshop(),
			associations: map[string][]string{
				"Casa delle Culture": {"ioana@casaculture.demo", "yusuf@casaculture.demo"},
			},
			proposals: []demoProposal{
				{author: "ioana@casaculture.demo", org: "Casa delle Culture", lang: "it", category: "documents",
					title:        "Sportello unico per i permessi di soggiorno in Città",
					body:         "Oggi servono tre uffici diversi per rinnovare un permesso. Proponiamo uno **sportello unico** in Municipio, con prenotazione online e mediatori in più lingue.",
					translations: map[string][2]string{"ro": {"Ghișeu unic pentru permisele de ședere", "Astăzi sunt necesare trei birouri diferite pentru a reînnoi un permis. Propunem un ghișeu unic la primărie, cu programare online și mediatori în mai multe limbi."}},
					supporters:   []string{"yusuf@casaculture.demo", "giulia@cittadini.demo", "marco@cittadini.demo"},
					comments: [][3]string{{"yusuf@casaculture.demo", "Anche il sabato mattina sarebbe utile.", insieme.StanceFor},
						{"marco@cittadini.demo", "La Questura deve essere coinvolta.", insieme.StanceNeutral}}},
				{author: "yusuf@casaculture.demo", org: "Casa delle Culture", lang: "ar", category: "culture",
					title:      "مهرجان الثقافات في الحي القديم",
					body:       "نقترح مهرجاناً سنوياً للثقافات في باري القديمة مع موسيقى وطعام من كل الجاليات.",
					supporters: []string{"ioana@casaculture.demo"}},
			},
		},
	}
}
